"""The whole schema: every module that defines tables, imported, and their shared metadata
(what the migrations must produce)."""

from sqlmodel import SQLModel

import bitchange.accounts.tables
import bitchange.alerts.tables
import bitchange.db.models
import bitchange.documents.tables
import bitchange.kyc.tables
import bitchange.mail.tables
import bitchange.ops.tables
import bitchange.promos.tables
import bitchange.proof.tables
import bitchange.staking.tables
import bitchange.support.tables
import bitchange.trading.tables
import bitchange.wallet.tables  # noqa: F401

metadata = SQLModel.metadata
