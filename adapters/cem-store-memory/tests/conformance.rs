//! The conformance suite against the in-memory store.

cem_store_testkit::queue_store_conformance!(Ok::<_, String>(
    cem_store_testkit::SharedHarness::new(cem_store_memory::MemoryStore::new)
));

cem_store_testkit::org_store_conformance!(Ok::<_, String>(cem_store_testkit::SharedHarness::new(
    cem_store_memory::MemoryStore::new
)));

cem_store_testkit::auth_store_conformance!(Ok::<_, String>(cem_store_testkit::SharedHarness::new(
    cem_store_memory::MemoryStore::new
)));

cem_store_testkit::outbox_store_conformance!(Ok::<_, String>(
    cem_store_testkit::SharedHarness::new(cem_store_memory::MemoryStore::new)
));

cem_store_testkit::contact_store_conformance!(Ok::<_, String>(
    cem_store_testkit::SharedHarness::new(cem_store_memory::MemoryStore::new)
));

cem_store_testkit::subscription_store_conformance!(Ok::<_, String>(
    cem_store_testkit::SharedHarness::new(cem_store_memory::MemoryStore::new)
));

cem_store_testkit::reservation_store_conformance!(Ok::<_, String>(
    cem_store_testkit::SharedHarness::new(cem_store_memory::MemoryStore::new)
));

cem_store_testkit::survey_store_conformance!(Ok::<_, String>(
    cem_store_testkit::SharedHarness::new(cem_store_memory::MemoryStore::new)
));

cem_store_testkit::signage_store_conformance!(Ok::<_, String>(
    cem_store_testkit::SharedHarness::new(cem_store_memory::MemoryStore::new)
));

cem_store_testkit::report_store_conformance!(Ok::<_, String>(
    cem_store_testkit::SharedHarness::new(cem_store_memory::MemoryStore::new)
));
