use parkrace::{
    engine::shuttle::Strategy, explore::*, oracle::OracleSet, scenario::Scenario, variant::Preset,
};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(1000);
    let only_s = args.get(2).cloned();
    let only_p = args.get(3).cloned();
    for sc in Scenario::named() {
        if let Some(o) = &only_s {
            if &sc.name != o {
                continue;
            }
        }
        for p in Preset::ALL {
            if let Some(o) = &only_p {
                if p.name() != o {
                    continue;
                }
            }
            let h = Hunt {
                variant: p.variant(),
                scenario: sc.clone(),
                strategy: Strategy::Random,
                oracles: OracleSet::all(),
                executions: n,
                time: None,
                seed: 1,
            };
            let r = hunt(&h);
            match &r.found {
                Some(f) => println!(
                    "{:18} {:4} found at {:6} : {}",
                    sc.name,
                    p.name(),
                    f.execution,
                    f.outcome.violation.as_ref().unwrap()
                ),
                None => println!(
                    "{:18} {:4} clean after {} ({:.0}/s)",
                    sc.name,
                    p.name(),
                    r.executions,
                    r.executions as f64 / r.elapsed.as_secs_f64()
                ),
            }
        }
    }
}
