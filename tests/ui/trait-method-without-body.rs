use observe::observe;

trait Store {
    #[observe]
    fn get(&self, key: u32) -> Option<u32>;
}

fn main() {}
