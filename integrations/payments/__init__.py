"""Payment providers: YooKassa, Sber acquiring and T-Bank acquiring behind one interface (`base.Provider`).

Plain clients: no Flask, no database. The portal's payment service decides what to pay and records
the result; a client only speaks its provider's documented protocol.
"""
