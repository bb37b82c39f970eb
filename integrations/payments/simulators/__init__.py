"""Stand-ins of the payment providers on loopback, for tests and the demo setup.

Each speaks its provider's documented protocol from a ThreadingHTTPServer in a daemon thread, keeps its
state in memory and has Python methods for what the customer or the provider would do (pay, cancel,
send a notification, fail). Import the module of the provider you need, e.g.
`from integrations.payments.simulators.yookassa import YooKassaSimulator`; nothing is imported here, so
`python -m integrations.payments.simulators.<provider>` runs a stand-in without loading it twice.
"""
