"""The funds ledger (扶贫资金): accounts, per-source balances, transfers, their source split and entries,
idempotency keys; the triggers that make the database itself refuse unbalanced or edited postings.

What each database enforces:
- both: CHECK constraints (no balance below its reservations, none below zero outside source accounts);
  entries join only a transfer that is still pending, and a transfer becomes ``posted`` only if its entries
  sum to zero and move exactly its amount between its two accounts; a decided transfer's terms and status
  never change; entries are never updated.
- PostgreSQL also: a deferred constraint trigger checks at commit that every transfer's entries sum to
  zero; entries and transfers are never deleted (SQLite's test fixtures empty tables with DELETE, so
  SQLite does not refuse deletes).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

REGION_CODE = sa.String(12).with_variant(sa.String(12, collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
SOURCES = (
    "source IN ('central', 'provincial', 'prefecture', 'county', 'integrated', 'donation', "
    "'enterprise_repayment')"
)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", JSON_DOCUMENT, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("subject", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False)

    op.create_table(
        "fund_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("natural_key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("payee_kind", sa.String(length=16), nullable=True),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("contractor_code", sa.String(length=18), nullable=True),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("reserved_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "(kind = 'payee') = (payee_kind IS NOT NULL)",
            name=op.f("ck_fund_accounts_payee_kind_only_on_payees"),
        ),
        sa.CheckConstraint(
            "(kind = 'project') = (project_id IS NOT NULL)",
            name=op.f("ck_fund_accounts_project_only_on_project"),
        ),
        sa.CheckConstraint(
            "(kind = 'source') = (source IS NOT NULL)",
            name=op.f("ck_fund_accounts_source_only_on_source_accounts"),
        ),
        sa.CheckConstraint(
            "kind = 'source' OR balance_fen >= reserved_fen",
            name=op.f("ck_fund_accounts_available_not_negative"),
        ),
        sa.CheckConstraint(
            "kind IN ('source', 'pool', 'project', 'payee')", name=op.f("ck_fund_accounts_kind_known")
        ),
        sa.CheckConstraint(
            "payee_kind IS NULL OR payee_kind IN ('household', 'contractor')",
            name=op.f("ck_fund_accounts_payee_kind_known"),
        ),
        sa.CheckConstraint(f"source IS NULL OR {SOURCES}", name=op.f("ck_fund_accounts_source_known")),
        sa.CheckConstraint("reserved_fen >= 0", name=op.f("ck_fund_accounts_reserved_not_negative")),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_fund_accounts_household_id_households")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_fund_accounts_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_fund_accounts_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_accounts")),
        sa.UniqueConstraint("natural_key", name=op.f("uq_fund_accounts_natural_key")),
    )
    op.create_index("ix_fund_accounts_household_id", "fund_accounts", ["household_id"], unique=False)
    op.create_index("ix_fund_accounts_project_id", "fund_accounts", ["project_id"], unique=False)
    op.create_index("ix_fund_accounts_region_code_id", "fund_accounts", ["region_code", "id"], unique=False)

    op.create_table(
        "fund_account_sources",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("is_external", sa.Boolean(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("reserved_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(SOURCES, name=op.f("ck_fund_account_sources_source_known")),
        sa.CheckConstraint(
            "is_external OR balance_fen >= reserved_fen",
            name=op.f("ck_fund_account_sources_available_not_negative"),
        ),
        sa.CheckConstraint("reserved_fen >= 0", name=op.f("ck_fund_account_sources_reserved_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["fund_accounts.id"],
            name=op.f("fk_fund_account_sources_account_id_fund_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "source", name=op.f("pk_fund_account_sources")),
    )

    op.create_table(
        "fund_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("debit_account_id", sa.Uuid(), nullable=False),
        sa.Column("credit_account_id", sa.Uuid(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("debit_region_code", REGION_CODE, nullable=False),
        sa.Column("credit_region_code", REGION_CODE, nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=400), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_by_name", sa.String(length=64), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_by_name", sa.String(length=64), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "(kind = 'reversal') = (reverses_id IS NOT NULL)",
            name=op.f("ck_fund_transfers_reversal_names_original"),
        ),
        sa.CheckConstraint(
            "kind IN ('appropriation', 'allocation', 'disbursement', 'recovery', 'reversal')",
            name=op.f("ck_fund_transfers_kind_known"),
        ),
        sa.CheckConstraint(f"source IS NULL OR {SOURCES}", name=op.f("ck_fund_transfers_source_known")),
        sa.CheckConstraint(
            "status = 'pending' OR decided_at IS NOT NULL",
            name=op.f("ck_fund_transfers_decided_when_not_pending"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'posted', 'rejected')", name=op.f("ck_fund_transfers_status_known")
        ),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_fund_transfers_amount_positive")),
        sa.CheckConstraint(
            "debit_account_id <> credit_account_id", name=op.f("ck_fund_transfers_two_accounts")
        ),
        sa.CheckConstraint(
            "fiscal_year BETWEEN 2000 AND 2100", name=op.f("ck_fund_transfers_fiscal_year_range")
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["fund_accounts.id"],
            name=op.f("fk_fund_transfers_credit_account_id_fund_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["fund_accounts.id"],
            name=op.f("fk_fund_transfers_debit_account_id_fund_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["fund_transfers.id"], name=op.f("fk_fund_transfers_reverses_id_fund_transfers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_transfers")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_fund_transfers_idempotency_key")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_fund_transfers_reverses_id")),
    )
    op.create_index("ix_fund_transfers_created_at_id", "fund_transfers", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_fund_transfers_fiscal_year_region_code",
        "fund_transfers",
        ["fiscal_year", "region_code"],
        unique=False,
    )
    op.create_index(
        "ix_fund_transfers_credit_account_id", "fund_transfers", ["credit_account_id"], unique=False
    )
    op.create_index(
        "ix_fund_transfers_debit_account_id", "fund_transfers", ["debit_account_id"], unique=False
    )
    op.create_index("ix_fund_transfers_document_number", "fund_transfers", ["document_number"], unique=False)
    op.create_index(
        "ix_fund_transfers_region_code_created_at",
        "fund_transfers",
        ["region_code", "created_at"],
        unique=False,
    )

    op.create_table(
        "fund_entries",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("region_code", REGION_CODE, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("posted_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(SOURCES, name=op.f("ck_fund_entries_source_known")),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_fund_entries_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["fund_accounts.id"], name=op.f("fk_fund_entries_account_id_fund_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["fund_transfers.id"], name=op.f("fk_fund_entries_transfer_id_fund_transfers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_entries")),
    )
    op.create_index("ix_fund_entries_account_id_id", "fund_entries", ["account_id", "id"], unique=False)
    op.create_index(
        "ix_fund_entries_region_code_fiscal_year",
        "fund_entries",
        ["region_code", "fiscal_year"],
        unique=False,
    )
    op.create_index("ix_fund_entries_transfer_id", "fund_entries", ["transfer_id"], unique=False)

    op.create_table(
        "fund_transfer_sources",
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(SOURCES, name=op.f("ck_fund_transfer_sources_source_known")),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_fund_transfer_sources_amount_positive")),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["fund_transfers.id"],
            name=op.f("fk_fund_transfer_sources_transfer_id_fund_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", "source", name=op.f("pk_fund_transfer_sources")),
    )

    statements = POSTGRESQL_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DROPS:
            op.execute(statement)
    op.drop_table("fund_transfer_sources")
    op.drop_table("fund_entries")
    op.drop_table("fund_transfers")
    op.drop_table("fund_account_sources")
    op.drop_table("fund_accounts")
    op.drop_table("idempotency_keys")


# The terms of a transfer: fixed when it is created, whatever happens to it later.
TERMS = (
    "kind",
    "debit_account_id",
    "credit_account_id",
    "amount_fen",
    "region_code",
    "debit_region_code",
    "credit_region_code",
    "fiscal_year",
    "document_number",
    "purpose",
    "category",
    "source",
    "reverses_id",
    "idempotency_key",
    "created_by",
    "created_by_name",
    "created_at",
)

POSTGRESQL_TRIGGERS = [
    """
CREATE FUNCTION fund_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'fund_entries is append-only: % refused', TG_OP USING ERRCODE = 'integrity_constraint_violation';
END $$
""",
    """
CREATE TRIGGER fund_entries_append_only BEFORE UPDATE OR DELETE ON fund_entries
FOR EACH ROW EXECUTE FUNCTION fund_entries_append_only()
""",
    """
CREATE FUNCTION fund_entries_join_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT status FROM fund_transfers WHERE id = NEW.transfer_id) IS DISTINCT FROM 'pending' THEN
        RAISE EXCEPTION 'entries join only a transfer being posted (transfer %)', NEW.transfer_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER fund_entries_join_pending BEFORE INSERT ON fund_entries
FOR EACH ROW EXECUTE FUNCTION fund_entries_join_pending()
""",
    """
CREATE FUNCTION fund_entries_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COALESCE(SUM(amount_fen), 0) FROM fund_entries WHERE transfer_id = NEW.transfer_id) <> 0 THEN
        RAISE EXCEPTION 'the entries of transfer % do not sum to zero', NEW.transfer_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE CONSTRAINT TRIGGER fund_entries_balanced AFTER INSERT ON fund_entries
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fund_entries_balanced()
""",
    f"""
CREATE FUNCTION fund_transfers_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
    credited bigint;
    debited bigint;
    elsewhere bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'fund transfers are never deleted' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'transfer % is %: it never changes again', OLD.id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF ({", ".join(f"NEW.{c}" for c in TERMS)}) IS DISTINCT FROM ({", ".join(f"OLD.{c}" for c in TERMS)}) THEN
        RAISE EXCEPTION 'the terms of transfer % never change', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT COALESCE(SUM(amount_fen), 0),
           COALESCE(SUM(amount_fen) FILTER (WHERE account_id = NEW.credit_account_id), 0),
           COALESCE(SUM(amount_fen) FILTER (WHERE account_id = NEW.debit_account_id), 0),
           COUNT(*) FILTER (WHERE account_id <> NEW.credit_account_id AND account_id <> NEW.debit_account_id)
      INTO total, credited, debited, elsewhere
      FROM fund_entries WHERE transfer_id = NEW.id;
    IF NEW.status = 'posted' AND (total <> 0 OR credited <> NEW.amount_fen OR debited <> -NEW.amount_fen
                                  OR elsewhere <> 0) THEN
        RAISE EXCEPTION 'transfer % cannot be posted: its entries do not move exactly its amount', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status <> 'posted' AND (credited <> 0 OR debited <> 0 OR elsewhere <> 0) THEN
        RAISE EXCEPTION 'only a posted transfer has entries (transfer %)', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$
""",  # noqa: S608  (column names of this module, no input)
    """
CREATE TRIGGER fund_transfers_guard BEFORE UPDATE OR DELETE ON fund_transfers
FOR EACH ROW EXECUTE FUNCTION fund_transfers_guard()
""",
]

POSTGRESQL_DROPS = [
    "DROP TRIGGER IF EXISTS fund_transfers_guard ON fund_transfers",
    "DROP TRIGGER IF EXISTS fund_entries_balanced ON fund_entries",
    "DROP TRIGGER IF EXISTS fund_entries_join_pending ON fund_entries",
    "DROP TRIGGER IF EXISTS fund_entries_append_only ON fund_entries",
    "DROP FUNCTION IF EXISTS fund_transfers_guard()",
    "DROP FUNCTION IF EXISTS fund_entries_balanced()",
    "DROP FUNCTION IF EXISTS fund_entries_join_pending()",
    "DROP FUNCTION IF EXISTS fund_entries_append_only()",
]

_ENTRIES_OF_NEW = "FROM fund_entries WHERE transfer_id = NEW.id"
SQLITE_TRIGGERS = [
    """
CREATE TRIGGER fund_entries_no_update BEFORE UPDATE ON fund_entries
BEGIN SELECT RAISE(ABORT, 'fund_entries is append-only'); END
""",
    """
CREATE TRIGGER fund_entries_join_pending BEFORE INSERT ON fund_entries
WHEN (SELECT status FROM fund_transfers WHERE id = NEW.transfer_id) IS NOT 'pending'
BEGIN SELECT RAISE(ABORT, 'entries join only a transfer being posted'); END
""",
    """
CREATE TRIGGER fund_transfers_decided_never_change BEFORE UPDATE ON fund_transfers
WHEN OLD.status <> 'pending'
BEGIN SELECT RAISE(ABORT, 'a decided transfer never changes'); END
""",
    f"""
CREATE TRIGGER fund_transfers_terms_never_change BEFORE UPDATE ON fund_transfers
WHEN {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in TERMS)}
BEGIN SELECT RAISE(ABORT, 'the terms of a transfer never change'); END
""",
    f"""
CREATE TRIGGER fund_transfers_posting_balanced BEFORE UPDATE OF status ON fund_transfers
WHEN NEW.status = 'posted' AND (
    (SELECT COALESCE(SUM(amount_fen), 0) {_ENTRIES_OF_NEW}) <> 0
    OR (SELECT COALESCE(SUM(amount_fen), 0) {_ENTRIES_OF_NEW} AND account_id = NEW.credit_account_id)
        <> NEW.amount_fen
    OR (SELECT COALESCE(SUM(amount_fen), 0) {_ENTRIES_OF_NEW} AND account_id = NEW.debit_account_id)
        <> -NEW.amount_fen
    OR (SELECT COUNT(*) {_ENTRIES_OF_NEW}
        AND account_id <> NEW.credit_account_id AND account_id <> NEW.debit_account_id) > 0
)
BEGIN SELECT RAISE(ABORT, 'a posted transfer''s entries must move exactly its amount'); END
""",
    f"""
CREATE TRIGGER fund_transfers_rejected_without_entries BEFORE UPDATE OF status ON fund_transfers
WHEN NEW.status <> 'posted' AND EXISTS (SELECT 1 {_ENTRIES_OF_NEW})
BEGIN SELECT RAISE(ABORT, 'only a posted transfer has entries'); END
""",
]
