//! The composition: lifecycle observations reach the supervisor, and its interrupt reaches the run.

use super::*;

// ---------------------------------------------------------------------------------------------------------------
// The composition: lifecycle observations reach the supervisor, its interrupt reaches the run

/// Converts a routed value between the two machines' declared types (newtypes of the same name and shape).
fn convert(from: &Machine, to: &Machine, value: &Value) -> Value {
    match value {
        Value::Newtype(id, inner) => {
            let name = &from.types[id.index()].name;
            let target = to.types.iter().position(|t| &t.name == name).expect("the target declares the newtype");
            Value::Newtype(TypeId(target as u32), Box::new(convert(from, to, inner)))
        }
        other => other.clone(),
    }
}

/// Delivers every effect of `fired` that a route of the package carries from `from` to `to`.
fn deliver(package: &CheckedPackage, from: &Machine, fired: &Fired, to: &Machine, to_state: &mut State) -> usize {
    let from_id = package.machines.iter().position(|m| m.name == from.name).unwrap();
    let to_id = package.machines.iter().position(|m| m.name == to.name).unwrap();
    let interp = Interpreter::new(to);
    let mut delivered = 0;
    for emitted in &fired.effects {
        for route in package.compositions.iter().flat_map(|c| &c.routes) {
            if route.from_machine.index() != from_id
                || route.to_machine.index() != to_id
                || route.effect != emitted.effect
            {
                continue;
            }
            let fields = route
                .fields
                .iter()
                .map(|value| match value {
                    RouteValue::EffectField(index) => convert(from, to, &emitted.fields[*index as usize]),
                    RouteValue::Constant(_) => panic!("no constant route values in this composition"),
                })
                .collect();
            let message = Message { trigger: route.target, fields };
            interp.apply(to_state, &message).unwrap_or_else(|r| panic!("routed delivery refused: {}", r.describe(to)));
            delivered += 1;
        }
    }
    delivered
}

#[test]
fn composition_routes_lifecycle_observations_and_interrupts() {
    let package = package();
    let meerkat = package.machine("MeerkatMachine").unwrap();
    let supervisor = package.machine("SessionSupervisor").unwrap();
    let k = Kit::new(meerkat);
    let sk = Kit::new(supervisor);
    let mut member = attached(&k);
    let mut roster = Session::new(&sk);
    roster.fire("AdmitMember", &[("session_id", sk.nt("SessionId", s("s1")))]);

    // The supervisor's interrupt reaches the member's run.
    member.begin_run("r1");
    let fired = roster.fire("InterruptMember", &[("session_id", sk.nt("SessionId", s("s1")))]);
    let delivered = deliver(&package, supervisor, &fired, meerkat, &mut member.st);
    assert_eq!(delivered, 1);
    member.finish_run("r1", "Cancelled");

    // Retirement and destruction reach the roster.
    let fired = member.with_session("Retire");
    assert_eq!(deliver(&package, meerkat, &fired, supervisor, &mut roster.st), 1);
    assert_eq!(roster.get("retired"), set([sk.nt("SessionId", s("s1"))]));
    let fired = member.with_session("Destroy");
    assert_eq!(deliver(&package, meerkat, &fired, supervisor, &mut roster.st), 1);
    assert_eq!(roster.get("members"), set([]));
    roster.fire("Close", &[]);
    assert_eq!(roster.phase(), "Closed");
    // Routes are typed: the routed interrupt is MeerkatMachine's signal.
    let route = package.compositions[0].routes.iter().find(|r| r.to_machine.index() == 0).unwrap();
    assert!(matches!(route.target, Trigger::Signal(_)));
    let _: &ir::Route = route;
}
