//! The scheduler versions (docs/model.md 0.3): V5 on the v6.12 stack sleeps a tick in
//! `kthread_bind` because of EEVDF's delayed dequeue (d.9), the v6.16 forced dequeue removes it,
//! a parking thread is never delayed, and the committed minimized repro replays. Fixed seeds
//! and budgets throughout.

mod common;

use common::{bytes, json_lines, parkrace, run};
use parkrace::oracle::{Oracle, OracleSet};
use parkrace::strategy::Strategy;
use parkrace::variant::{Preset, Variant};

fn variant(s: &str) -> Variant {
    s.parse().unwrap()
}

/// The committed, minimized repro of d.9 (found by `hunt -v V5@6.12 -s create-park`).
const REPRO: &str = "tests/repros/V5_6_12-create-park-I8.json";

#[test]
fn delayed_dequeue_makes_kthread_bind_sleep_a_tick_on_6_12_and_not_on_6_16() {
    let i8 = OracleSet::of(&[Oracle::I8]);
    let r = run(
        Preset::V5At612.variant(),
        "create-park",
        Strategy::Random,
        i8,
        2_000,
        1,
    );
    let v = r
        .found
        .expect("V5@6.12 sleeps a tick")
        .outcome
        .violation
        .unwrap();
    assert_eq!(v.oracle, Oracle::I8);
    assert!(v.detail.contains("sched_delayed"), "{}", v.detail);
    // Any combination runs: delayed dequeue alone on the 2018 scheduler shows the same.
    let r = run(
        variant("V5:delayed_dequeue=on"),
        "create-park",
        Strategy::Random,
        i8,
        2_000,
        1,
    );
    assert!(r.found.is_some());
    // The forced dequeue (b7ca5743a260) removes it, on every oracle.
    for p in [Preset::V5At616, Preset::Mainline] {
        let r = run(
            p.variant(),
            "create-park",
            Strategy::Random,
            OracleSet::all(),
            5_000,
            1,
        );
        assert!(
            r.found.is_none(),
            "{p}: {:?}",
            r.found.map(|f| f.outcome.violation)
        );
    }
    // ... and it is that switch: V5@6.16 without it sleeps again.
    let r = run(
        variant("V5@6.16:wti_force_dequeue=off"),
        "create-park",
        Strategy::Random,
        i8,
        2_000,
        1,
    );
    assert!(r.found.is_some());
}

#[test]
fn a_parking_thread_is_never_delayed() {
    // TASK_PARKED is a special state (e1459a50ba31): park's own wait_task_inactive never finds
    // K delayed, so V5 on the v6.12 stack keeps I1 and I8 on the scenarios where another task
    // shares K's CPU while it parks.
    for s in [
        "wti-latency",
        "preempt-parked",
        "stale-completion",
        "park-unpark",
    ] {
        let r = run(
            Preset::V5At612.variant(),
            s,
            Strategy::Random,
            OracleSet::of(&[Oracle::I1, Oracle::I1c, Oracle::I8]),
            3_000,
            1,
        );
        assert!(
            r.found.is_none(),
            "{s}: {:?}",
            r.found.map(|f| f.outcome.violation)
        );
    }
}

#[test]
fn the_committed_repro_replays_and_the_forced_dequeue_removes_it() {
    let o = parkrace(&["replay", REPRO, "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let row = &json_lines(&o.stdout)[0];
    assert_eq!(row["reproduced"], true, "{row}");
    assert_eq!(row["oracle"], "I8");
    // Minimal: no preemption at all, only the delayed-dequeue choice.
    assert_eq!(row["preemptions"], 0);
    let o = parkrace(&["replay", REPRO, "--brief"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("delayed dequeue"), "{text}");
    assert!(text.contains("pick_next_entity"), "{text}");
    // The same schedule bytes: I8 on the v6.12 stack, clean with the v6.16 forced dequeue.
    let f: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(REPRO).unwrap()).unwrap();
    let bytes = parkrace::tools::repro::from_hex(f["schedule_bytes"].as_str().unwrap()).unwrap();
    let s = parkrace::scenario::Scenario::by_name("create-park").unwrap();
    let run = |p: Preset| {
        parkrace::tools::explore::run_bytes(&s, p.variant(), OracleSet::all(), &bytes)
            .outcome
            .violation
    };
    assert_eq!(run(Preset::V5At612).map(|v| v.oracle), Some(Oracle::I8));
    assert_eq!(run(Preset::V5At616), None);
    assert_eq!(run(Preset::Mainline), None);
}

#[test]
fn a_repro_file_from_before_the_scheduler_switches_reads_as_the_2018_scheduler() {
    let dir = tempfile::tempdir().unwrap();
    let old = common::old_repro_file(dir.path(), |v| {
        for s in parkrace::variant::SCHED_SWITCHES {
            assert!(
                v["variant"].as_object_mut().unwrap().remove(*s).is_some(),
                "{s}"
            );
        }
    });
    let o = parkrace(&["replay", old.to_str().unwrap(), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(json_lines(&o.stdout)[0]["reproduced"], true);
}

#[test]
fn the_new_presets_are_listed_with_their_stacks() {
    let o = parkrace(&["variants"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for (name, commit) in [
        ("V5@6.12", "152e11f6df29"),
        ("V5@6.16", "b7ca5743a260"),
        ("mainline", "set_cpus_allowed_force"),
    ] {
        // The preset's line, then its scheduler line with the commits.
        let mut lines = text.lines();
        lines
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} in\n{text}"));
        let sched = lines.next().unwrap();
        assert!(
            sched.contains("scheduler:") && sched.contains(commit),
            "{sched}"
        );
    }
    // The 2018 switch strings are unchanged: a scheduler switch is named only when on.
    assert!(
        !Preset::V5
            .variant()
            .switch_string()
            .contains("delayed_dequeue")
    );
    assert!(
        Preset::V5At612
            .variant()
            .switch_string()
            .contains("delayed_dequeue=on")
    );
    for p in Preset::ALL {
        assert_eq!(
            p.variant().switch_string().parse::<Variant>().unwrap(),
            p.variant()
        );
        assert_eq!(p.variant().to_string(), p.name());
    }
}

#[test]
fn the_wake_list_is_taken_and_its_ipi_activates_the_task() {
    use parkrace::scenario::Scenario;
    use parkrace::tools::explore::run_bytes;
    let s = Scenario::by_name("park-unpark-park").unwrap();
    let mut queued = 0;
    for seed in 0..300 {
        let r = run_bytes(
            &s,
            Preset::Mainline.variant(),
            OracleSet::all(),
            &bytes(seed, 200),
        );
        assert!(
            r.outcome.violation.is_none(),
            "seed {seed}: {:?}",
            r.outcome.violation
        );
        let funcs: Vec<&str> = r.outcome.trace.iter().map(|e| e.func.as_ref()).collect();
        if funcs.contains(&"__ttwu_queue_wakelist") {
            queued += 1;
            // ... and its IPI activates what it queued.
            assert!(funcs.contains(&"sched_ttwu_pending"), "seed {seed}");
        }
        // The 2018 scheduler has no wake list.
        let old = run_bytes(
            &s,
            Preset::V5.variant(),
            OracleSet::all(),
            &bytes(seed, 200),
        );
        assert!(
            !old.outcome
                .trace
                .iter()
                .any(|e| e.func == "__ttwu_queue_wakelist")
        );
    }
    assert!(queued > 10, "the wake list was taken in {queued} of 300");
}

#[test]
fn a_cfs_pick_may_take_any_queued_task_and_zero_draws_keep_the_fifo_order() {
    use parkrace::scenario::Scenario;
    use parkrace::tools::explore::run_bytes;
    // preempt-parked: K and X share CPU1, so picks there have two fair candidates.
    let s = Scenario::by_name("preempt-parked").unwrap();
    let notes = |b: &[u8]| -> Vec<String> {
        run_bytes(&s, Preset::V5.variant(), OracleSet::all(), b)
            .outcome
            .trace
            .iter()
            .map(|e| format!("{:?}", e.what))
            .collect()
    };
    // With two candidates the queue order is (the other task, prev): a pass-over keeps prev
    // running although another task is queued, which a FIFO pick never did.
    let passed_over = |n: &String| n.contains("after the first queued");
    assert!(
        !notes(&[]).iter().any(passed_over),
        "zero draws: the FIFO order"
    );
    let any = (0..200).any(|seed| notes(&bytes(seed, 200)).iter().any(passed_over));
    assert!(
        any,
        "no pick passed over the first queued task in 200 schedules"
    );
}

#[test]
fn bring_up_unparks_the_smpboot_thread_while_the_cpu_is_online_but_not_active() {
    use parkrace::scenario::Scenario;
    use parkrace::tools::explore::run_bytes;
    let s = Scenario::by_name("hotplug").unwrap();
    let r = run_bytes(&s, Preset::V5.variant(), OracleSet::all(), &[]);
    assert!(r.outcome.violation.is_none());
    let pos = |f: &str| {
        r.outcome
            .trace
            .iter()
            .position(|e| e.func == f)
            .unwrap_or_else(|| panic!("no {f} in the trace"))
    };
    let (online, unpark, active) = (
        pos("bringup_cpu"),
        pos("kthread_unpark"),
        pos("sched_cpu_activate"),
    );
    assert!(
        online < unpark && unpark < active,
        "{online} {unpark} {active}"
    );
}
