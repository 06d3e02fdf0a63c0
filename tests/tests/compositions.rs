//! The generated routing code of a composition (`dsl/test_data/ok/compositions.machine`): an effect of the
//! producer's kernel, lifted by `route_producer_effect`, is a message the consumer's kernel accepts, with every
//! field converted across the two machines' own types.

#![allow(clippy::expect_used, reason = "a test fails loudly when the routed message is refused")]

use meerkat_tests::kernels::{consumer, pipeline, producer};

#[test]
fn a_routed_effect_reaches_the_consumer_with_converted_fields() {
    let mut source = producer::ProducerAuthority::new();
    let transition = producer::ProducerMutator::apply(
        &mut source,
        producer::ProducerInput::Announce {
            id: producer::JobId("j1".to_string()),
            priority: producer::Priority::High,
            size: 3,
        },
    )
    .expect("announce is accepted");
    let effects = transition.into_effects();
    assert_eq!(effects.len(), 1);

    let routed = pipeline::route_producer_effect(&effects[0]);
    let expected = consumer::ConsumerSignal::Job {
        id: "j1".to_string(),
        priority: consumer::Priority::High,
        size: 3,
        urgent: false,
        origin: "producer".to_string(),
    };
    assert_eq!(routed, vec![pipeline::PipelineRouted::ConsumerSignal(expected.clone())]);

    let mut target = consumer::ConsumerAuthority::new();
    let pipeline::PipelineRouted::ConsumerSignal(signal) = routed[0].clone();
    target.apply_signal(signal).expect("the routed signal is accepted");
    assert_eq!(target.state().queued, vec!["j1".to_string()]);
    assert!(target.state().urgent_seen, "priority High converted to the consumer's High");
}
