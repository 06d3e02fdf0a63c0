//! Random interpreter values for a machine's types, as proptest strategies: payloads drawn from the spec's
//! `model` domains where it declares them (a field's own domain, else its type's), otherwise small values with an
//! occasional `u64` near the top of the range so checked arithmetic gets exercised.

use std::sync::Arc;

use meerkat_dsl::interp::{Interpreter, Message, State, Value};
use meerkat_dsl::ir::{DomainTarget, Machine, PhaseId, Trigger, Type, TypeId, TypeKind};
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Just, Union};

/// Collections and options deeper than this are generated empty, which bounds recursive types.
const MAX_DEPTH: usize = 3;

/// Value generators for one machine.
#[derive(Clone)]
pub struct Values {
    machine: Arc<Machine>,
}

impl Values {
    /// Generators for `machine`.
    pub fn new(machine: Arc<Machine>) -> Self {
        Values { machine }
    }

    /// The values of a domain target, evaluated by the interpreter.
    fn domain(&self, target: &DomainTarget) -> Option<Vec<Value>> {
        let interp = Interpreter::new(&self.machine);
        let domain = self.machine.model.domains.iter().find(|d| d.target == *target)?;
        let values: Vec<Value> = domain.values.iter().filter_map(|e| interp.eval_constant(e)).collect();
        (!values.is_empty()).then_some(values)
    }

    /// Any value of `ty`, preferring the spec's domain for the type.
    pub fn value(&self, ty: &Type) -> BoxedStrategy<Value> {
        self.value_at(ty, 0)
    }

    fn value_at(&self, ty: &Type, depth: usize) -> BoxedStrategy<Value> {
        if let Some(values) = self.domain(&DomainTarget::Type(ty.clone())) {
            return proptest::sample::select(values).boxed();
        }
        let deeper = depth + 1;
        match ty {
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::U64 => prop_oneof![
                8 => (0u64..=5).prop_map(Value::U64),
                1 => (0u64..=2).prop_map(|d| Value::U64(u64::MAX - d)),
                1 => any::<u64>().prop_map(Value::U64),
            ]
            .boxed(),
            Type::String => proptest::sample::select(vec!["", "a", "b", "ab"]).prop_map(Value::str).boxed(),
            Type::Phase => {
                let count = self.machine.phases.len().max(1) as u32;
                (0..count).prop_map(|p| Value::Phase(PhaseId(p))).boxed()
            }
            Type::Named(id) => self.named(*id, depth),
            Type::Option(inner) if depth >= MAX_DEPTH => {
                let _ = inner;
                Just(Value::none()).boxed()
            }
            Type::Option(inner) => prop_oneof![
                1 => Just(Value::none()),
                2 => self.value_at(inner, deeper).prop_map(Value::some),
            ]
            .boxed(),
            Type::Set(inner) => {
                let len = if depth >= MAX_DEPTH { 0..=0 } else { 0..=3 };
                proptest::collection::btree_set(self.value_at(inner, deeper), len).prop_map(Value::Set).boxed()
            }
            Type::Seq(inner) => {
                let len = if depth >= MAX_DEPTH { 0..=0 } else { 0..=3 };
                proptest::collection::vec(self.value_at(inner, deeper), len).prop_map(Value::Seq).boxed()
            }
            Type::Map(k, v) => {
                let len = if depth >= MAX_DEPTH { 0..=0 } else { 0..=3 };
                proptest::collection::btree_map(self.value_at(k, deeper), self.value_at(v, deeper), len)
                    .prop_map(Value::Map)
                    .boxed()
            }
        }
    }

    fn named(&self, id: TypeId, depth: usize) -> BoxedStrategy<Value> {
        let Some(decl) = self.machine.types.get(id.index()) else { return Just(Value::Bool(false)).boxed() };
        match &decl.kind {
            TypeKind::Enum { variants } => {
                let count = variants.len().max(1) as u32;
                (0..count).prop_map(move |v| Value::Enum(id, v)).boxed()
            }
            TypeKind::Record { fields } => {
                let fields: Vec<BoxedStrategy<Value>> =
                    fields.iter().map(|f| self.value_at(&f.ty, depth + 1)).collect();
                fields.prop_map(move |values| Value::Record(id, values)).boxed()
            }
            TypeKind::Newtype { inner } => {
                self.value_at(inner, depth + 1).prop_map(move |v| Value::Newtype(id, Box::new(v))).boxed()
            }
        }
    }

    /// A payload value for field `index` of `trigger`.
    fn payload(&self, trigger: Trigger, index: usize, ty: &Type) -> BoxedStrategy<Value> {
        match self.domain(&DomainTarget::Field(trigger, index as u32)) {
            Some(values) => proptest::sample::select(values).boxed(),
            None => self.value(ty),
        }
    }

    /// Any input or signal of the machine, with a payload.
    pub fn message(&self) -> BoxedStrategy<Message> {
        let options: Vec<BoxedStrategy<Message>> = self.machine.triggers().map(|t| self.message_for(t)).collect();
        if options.is_empty() {
            // No inputs or signals: the message names a trigger the machine does not have.
            return Just(Message { trigger: Trigger::Input(meerkat_dsl::ir::InputId(0)), fields: Vec::new() }).boxed();
        }
        Union::new(options).boxed()
    }

    /// One message per trigger (inputs, then signals), each with a payload.
    pub fn messages(&self) -> BoxedStrategy<Vec<Message>> {
        let per_trigger: Vec<BoxedStrategy<Message>> =
            self.machine.triggers().map(|trigger| self.message_for(trigger)).collect();
        per_trigger.boxed()
    }

    fn message_for(&self, trigger: Trigger) -> BoxedStrategy<Message> {
        let fields: Vec<BoxedStrategy<Value>> = self
            .machine
            .trigger(trigger)
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| self.payload(trigger, i, &f.ty))
            .collect();
        fields.prop_map(move |fields| Message { trigger, fields }).boxed()
    }

    /// Any state of the machine: a phase and a value of each field's type.
    pub fn state(&self) -> BoxedStrategy<State> {
        let count = self.machine.phases.len().max(1) as u32;
        let fields: Vec<BoxedStrategy<Value>> = self.machine.fields.iter().map(|f| self.value(&f.ty)).collect();
        ((0..count), fields).prop_map(|(phase, fields)| State { phase: PhaseId(phase), fields }).boxed()
    }
}
