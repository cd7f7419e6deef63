use cloudward_protocol::Credentials;

// Local development key of the Cloudward dev server.
pub fn dev_credentials() -> Credentials {
    Credentials::new("LTAIBqtigcUT4BlSegXOyXnz", "FHKEvKKVv2pjB5uDhNjwEwssmOl3H2")
}

pub const SCHEMA_HASH: &str = "7ddd61428b81e4e2143219bfe36b7e224004caacea07e29c5627f51c95fcf40d";
