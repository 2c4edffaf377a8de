use observe::{Label, observe};

#[derive(Debug, Label)]
enum Region {
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, R13, R14, R15,
}

#[derive(Debug, Label)]
enum BigError {
    E0, E1, E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12, E13, E14, E15, E16, E17, E18, E19,
}

// 17 region values x 4 outcomes = 68 `flow_calls_total` series fit the
// budget of 256; 17 x (20 + `other`, `error`, `panic`) = 391
// `flow_errors_total` series do not.
#[observe(labels(region = region))]
fn charge(region: Region) -> Result<(), BigError> {
    let _ = region;
    Err(BigError::E0)
}

fn main() {
    let _ = charge(Region::R0);
}
