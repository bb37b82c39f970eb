"""The case engine around SpiffWorkflow: definitions, engine, persistence, sandbox, task forms,
service-task handlers, timers and messages (see DESIGN: "The case engine")."""
