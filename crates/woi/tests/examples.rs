//! Every example runs in CI: each is compiled here as a module and its
//! `main` called (they exit by themselves and assert their own outcome).

#[path = "../../../examples/define_in_code.rs"]
mod define_in_code;

#[path = "../../../examples/test_my_jobnets.rs"]
mod test_my_jobnets;

#[path = "../../../examples/custom_job_kind.rs"]
mod custom_job_kind;

#[path = "../../../examples/embedded_service.rs"]
mod embedded_service;

#[test]
fn example_define_in_code_runs() {
    define_in_code::main().unwrap();
}

#[test]
fn example_test_my_jobnets_runs() {
    test_my_jobnets::main();
}

#[test]
fn example_custom_job_kind_runs() {
    custom_job_kind::main().unwrap();
}

#[test]
fn example_embedded_service_runs() {
    embedded_service::main().unwrap();
}
