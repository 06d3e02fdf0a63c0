//! Tool visibility: revisions and the committed sets of visible tools.

use super::*;

// ---------------------------------------------------------------------------------------------------------------
// Tool visibility

#[test]
fn visibility_revisions_and_committed_sets() {
    let package = package();
    let k = Kit::new(package.machine("MeerkatMachine").unwrap());
    let mut session = attached(&k);
    let all = k.rec("ToolFilter", &[("mode", k.en("ToolFilterMode", "AllowAll")), ("names", set([]))]);
    let deny_shell = k.rec("ToolFilter", &[("mode", k.en("ToolFilterMode", "Deny")), ("names", set([s("shell")]))]);
    let witness = k.nt("ToolVisibilityWitness", s("w"));

    let fired = session.with_session("StageVisibilityFilter");
    assert_eq!(k.effect_field(&fired, "VisibilityRevisionMinted", "revision"), u(1));
    assert_eq!(session.get("next_staged_visibility_revision"), u(2));
    let labels =
        session.refuse_guarded("RequestDeferredTools", &[("session_id", session.sid("s1")), ("authorities", map([]))]);
    assert_eq!(labels, [("RequestDeferredTools".to_string(), "!authorities.is_empty()".to_string())]);
    let fired = session.fire(
        "RequestDeferredTools",
        &[("session_id", session.sid("s1")), ("authorities", map([(s("search"), witness.clone())]))],
    );
    assert_eq!(k.effect_field(&fired, "VisibilityRevisionMinted", "revision"), u(2));
    assert_eq!(
        k.effect_field(&fired, "VisibilityRevisionMinted", "purpose"),
        k.en("RevisionPurpose", "DeferredToolRequest")
    );

    // A published set: (active filter, staged filter, active names, staged names, active authorities, staged
    // authorities, active revision, staged revision).
    let publish = |session: &mut Session,
                   active: &Value,
                   staged: &Value,
                   active_names: Value,
                   staged_names: Value,
                   active_auth: Value,
                   active_revision: u64,
                   staged_revision: u64| {
        let fields = [
            ("session_id", session.sid("s1")),
            ("active_filter", active.clone()),
            ("staged_filter", staged.clone()),
            ("active_requested_deferred_names", active_names),
            ("staged_requested_deferred_names", staged_names.clone()),
            ("active_deferred_authorities", active_auth),
            ("staged_deferred_authorities", map([])),
            ("active_visibility_revision", u(active_revision)),
            ("staged_visibility_revision", u(staged_revision)),
        ];
        session.try_apply("PublishCommittedVisibleSet", &fields)
    };
    let guard_label = |result: Result<Fired, Rejection>| {
        let rejection = result.unwrap_err();
        let labels = k.rejections(&rejection);
        assert_eq!(labels.len(), 1);
        labels[0].1.clone()
    };

    let before = session.st.clone();
    // Clause 1: the active surface behind the staged input.
    let label = guard_label(publish(&mut session, &deny_shell, &deny_shell, set([]), set([]), map([]), 1, 2));
    assert_eq!(label, "active_not_behind_staged(active_visibility_revision, staged_visibility_revision)");
    // Clause 2: equal revisions, different filters.
    let label = guard_label(publish(&mut session, &all, &deny_shell, set([]), set([]), map([]), 2, 2));
    assert!(label.starts_with("equal_revision_requires_equal_active_and_staged_input("), "{label}");
    // Clause 3: the active surface requests a tool the staged input does not.
    let label = guard_label(publish(&mut session, &all, &deny_shell, set([s("search")]), set([]), map([]), 2, 1));
    assert_eq!(
        label,
        "active_requested_subset_of_staged_requested(active_requested_deferred_names, staged_requested_deferred_names)"
    );
    // Authorities only for requested names.
    let label =
        guard_label(publish(&mut session, &all, &all, set([]), set([]), map([(s("search"), witness.clone())]), 2, 2));
    assert_eq!(label, "authorities_for_requested(active_deferred_authorities, active_requested_deferred_names)");
    // Revisions this kernel never minted.
    let label = guard_label(publish(&mut session, &all, &all, set([]), set([]), map([]), 3, 3));
    assert_eq!(label, "revision_minted(active_visibility_revision)");
    assert_eq!(session.st, before, "refused publications change nothing");

    // A consistent set commits.
    let fired = publish(
        &mut session,
        &deny_shell,
        &deny_shell,
        set([s("search")]),
        set([s("search")]),
        map([(s("search"), witness.clone())]),
        2,
        2,
    )
    .unwrap();
    assert_eq!(k.effect_field(&fired, "VisibleSetPublished", "active_visibility_revision"), u(2));
    assert_eq!(session.get("active_filter"), deny_shell);
    assert_eq!(session.get("staged_requested_deferred_names"), set([s("search")]));
    assert_eq!(session.get("active_deferred_authorities"), map([(s("search"), witness)]));
    assert_eq!(k.interp.check_recovered(&session.st), Ok(()));
    // An older set is stale.
    let label = guard_label(publish(&mut session, &all, &all, set([]), set([]), map([]), 1, 1));
    assert_eq!(label, "active_visibility_revision >= self.active_visibility_revision");
}
