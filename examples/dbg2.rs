use authrace::model::{AuthModel, Fx};
use authrace::scenario::Scenario;
use stateright::Model;
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let s = Scenario::load(std::path::Path::new(&p)).unwrap();
    let m = AuthModel::new(&s);
    let mut seed: u64 = 12345;
    for run in 0..5000 {
        let mut conc = m.init_state();
        let mut can = m.init_state();
        let mut hist = Vec::new();
        for _ in 0..80 {
            let (mut a1, mut a2) = (Vec::new(), Vec::new());
            m.actions(&conc, &mut a1);
            m.actions(&can, &mut a2);
            if a1.len() != a2.len() {
                println!(
                    "run {run}: enabled differ after {:?}\nconc {:?}\ncan {:?}",
                    hist, a1, a2
                );
                return;
            }
            if a1.is_empty() {
                break;
            }
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = (seed >> 33) as usize % a1.len();
            hist.push(a1[k]);
            conc = m.step(&conc, a1[k], &mut Fx::off()).unwrap();
            can = m.next_state(&can, a2[k]).unwrap();
            let mut cc = conc.clone();
            authrace::model::canon::canonicalize(&mut cc);
            if cc != can {
                println!(
                    "run {run}: canonical differs after {:?}\nCC {:?}\nCAN {:?}",
                    hist, cc, can
                );
                return;
            }
        }
    }
    println!("ok");
}
