"""All models, imported here so that Alembic and the app see every table."""
from app.models.accounts import OWNER, REPRESENTATIVE, Account, AccountAccess
from app.models.askue import (AskuePoint, AskueSource, ExchangeFile, IntervalDay, IntervalMonth, IntervalSubstitute,
                              MeterEventLog, SubstitutionRule, interval_table)
from app.models.audit import AuditEvent
from app.models.billing import (AccountPeriod, Accrual, BillingPeriod, ConsumptionNorm, DueDateRule, KeyRate,
                                LedgerEntry, PenaltyRateCap, Tariff)
from app.models.connection import ConnectionRate
from app.models.disclosure import (DisclosureCategory, DisclosureDocument, DisclosureItem, DisclosureReminder,
                                   DisclosureStandard, SubstationCapacity)
from app.models.meter_groups import GROUP_KINDS, MeterGroup, MeterGroupMember
from app.models.cases import (ApplicationDraft, Case, CaseDocument, CaseEvent, CaseNumberCounter, FormVersion, HumanTask,
                              OutboxMessage, ProcessDefinition, ProcessDraft, ProcessMigration)
from app.models.payments import AutoPayment, Payment, PaymentEvent, PaymentReceipt
from app.models.test_runs import ProcessTestRun
from app.models.metering import Meter, MeterReading, Premises, VisitSlot, ZoneHours
from app.models.users import PersonalAccessToken, StaffGroup, User, UserRole, user_group

__all__ = [
    "AskuePoint",
    "AskueSource",
    "ExchangeFile",
    "IntervalDay",
    "IntervalMonth",
    "IntervalSubstitute",
    "MeterEventLog",
    "SubstitutionRule",
    "interval_table",
    "AccountPeriod",
    "ApplicationDraft",
    "AutoPayment",
    "Accrual",
    "BillingPeriod",
    "Case",
    "CaseDocument",
    "CaseEvent",
    "CaseNumberCounter",
    "ConnectionRate",
    "ConsumptionNorm",
    "DisclosureCategory",
    "DisclosureDocument",
    "DisclosureItem",
    "DisclosureReminder",
    "DisclosureStandard",
    "SubstationCapacity",
    "DueDateRule",
    "FormVersion",
    "HumanTask",
    "KeyRate",
    "LedgerEntry",
    "Meter",
    "MeterGroup",
    "MeterGroupMember",
    "GROUP_KINDS",
    "MeterReading",
    "OutboxMessage",
    "Payment",
    "PaymentEvent",
    "PaymentReceipt",
    "PenaltyRateCap",
    "Premises",
    "ProcessDefinition",
    "ProcessDraft",
    "ProcessTestRun",
    "ProcessMigration",
    "Tariff",
    "ZoneHours",
    "OWNER",
    "REPRESENTATIVE",
    "Account",
    "AccountAccess",
    "AuditEvent",
    "PersonalAccessToken",
    "StaffGroup",
    "User",
    "VisitSlot",
    "UserRole",
    "user_group",
]
