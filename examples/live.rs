use authrace::check::liveness::{self, Limits, LiveOutcome, StateGraph};
use authrace::model::{AuthModel, Fx, describe};
use authrace::scenario::{Scenario, properties::PropertyId};
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let s = Scenario::load(std::path::Path::new(&p)).unwrap();
    let m = AuthModel::new(&s);
    let mut g = StateGraph::build(&m, Limits::default());
    g.seal();
    if let LiveOutcome::Violated {
        path,
        prefix,
        reason,
    } = liveness::decide(&m, &g, PropertyId::EventuallyAuthenticated)
    {
        println!("{reason}\nprefix {prefix}");
        let mut st = m.init_state();
        for (i, a) in path.iter().enumerate() {
            let mut fx = Fx::recording();
            st = m.step(&st, *a, &mut fx).unwrap();
            println!("{} {:?}", i + 1, a);
            if i + 1 >= prefix {
                println!("{}", describe::render_state(&m.ctx, &st));
            }
        }
        use stateright::Model;
        for _ in 0..12 {
            let mut acts = vec![];
            m.actions(&st, &mut acts);
            println!("enabled: {:?}", acts);
            let Some(a) = acts
                .iter()
                .find(|a| !matches!(a, authrace::model::Action::Commit))
                .or(acts.first())
                .copied()
            else {
                break;
            };
            let mut fx = Fx::recording();
            st = m.step(&st, a, &mut fx).unwrap();
            println!(
                "-> {:?} {:?}\n{}",
                a,
                fx.events
                    .unwrap()
                    .iter()
                    .map(|e| e.text.clone())
                    .collect::<Vec<_>>(),
                describe::render_state(&m.ctx, &st)
            );
        }
    }
}
