#[derive(observe::Label)]
struct UserId(u64);

#[derive(observe::Label)]
enum Status {
    #[label(rename = "ok")]
    Good,
    Ok,
}

fn main() {}
