"""The /proof page's states: the published snapshots for everyone; a signed-in user's own proof
(checked in the page by `components/proof_verify.js`, downloadable as JSON); and the admin's
snapshot button and reserve attestation form. The user comes from the session, never from the
event; every admin handler re-checks the admin (with 2FA)."""

from __future__ import annotations

import json

import reflex as rx

from bitchange import db, routes
from bitchange.accounts import audit
from bitchange.clock import when
from bitchange.inputs import InputError, parse_whole
from bitchange.money import AmountError, parse_amount
from bitchange.proof import reserves, views
from bitchange.proof.reserves import ReserveError
from bitchange.proof.snapshot import SnapshotRefused, proof_for, publish
from bitchange.state.admin import gate
from bitchange.state.auth import client_ip, current_admin, current_user
from bitchange.state.events import event


def _snapshot_id(text: str) -> int | None:
    try:
        return parse_whole(text, "Snapshot", minimum=1)
    except InputError:
        return None


class ProofState(rx.State):
    snapshots: list[dict[str, str]] = []
    selected: str = ""  # snapshot id shown below the list
    selected_taken: str = ""
    selected_root: str = ""
    assets: list[dict[str, str]] = []
    reserves: list[dict[str, str]] = []
    signed_in: bool = False
    # The signed-in user's share of the selected snapshot (their own data, for their browser).
    my_balances: list[dict[str, str]] = []
    my_leaves: list[dict[str, str]] = []
    my_note: str = ""
    my_account: str = ""  # the account number the proof's leaves commit to
    proof_json: str = ""
    check: str = ""  # the in-page check's sentence

    def _show(self, snapshot_id: int | None) -> None:
        user = current_user(self)
        self.signed_in = user is not None
        self.check = ""
        with db.read() as conn:
            self.snapshots = views.snapshot_rows(conn)
            snapshot = views.latest_or(conn, snapshot_id)
            if snapshot is None:
                self.selected = self.selected_taken = self.selected_root = ""
                self.assets, self.reserves = [], []
                self._mine(None)
                return
            self.selected, self.selected_root = str(snapshot.id), snapshot.root
            self.selected_taken = when(snapshot.taken_at)
            self.assets = views.asset_rows(conn, snapshot)
            self.reserves = views.reserve_rows(conn, snapshot)
            self._mine(proof_for(conn, snapshot.id, user.user_id) if user else None)

    def _mine(self, document: dict | None) -> None:
        if document is None:
            self.my_balances, self.my_leaves, self.proof_json = [], [], ""
            self.my_account = ""
            self.my_note = ("You had no balance in this snapshot." if self.signed_in
                            and self.selected else "")
            return
        self.my_balances, self.my_leaves = views.my_rows(document)
        self.my_account = str(document["account"]["user_id"])
        self.proof_json = json.dumps(document, indent=1)
        self.my_note = ""

    @event
    def load(self) -> None:
        self._show(None)

    @event
    def select(self, snapshot_id: str) -> None:
        self._show(_snapshot_id(snapshot_id))

    @event
    def verify_in_page(self) -> rx.event.EventSpec | None:
        if not self.proof_json:
            return None
        return rx.call_script(f"window.bitchangeProof.verify({json.dumps(self.proof_json)})",
                              callback=ProofState.checked)

    @event
    def checked(self, result: str) -> None:
        self.check = result[:1000]

    @event
    def download(self) -> rx.event.EventSpec | None:
        if not self.proof_json:
            return None
        return rx.download(data=self.proof_json,
                           filename=f"bitchange-proof-{self.selected}.json")


class AdminProofState(rx.State):
    access: str = "loading"  # loading | admin | denied
    snapshots: list[dict[str, str]] = []
    assets: list[str] = []  # of the latest snapshot, for the attestation form
    notice: str = ""
    error: str = ""

    def _reload(self) -> None:
        with db.read() as conn:
            self.snapshots = views.snapshot_rows(conn)
            latest = views.latest_or(conn, None)
        self.assets = latest.codes if latest else []

    @event
    def load(self) -> rx.event.EventSpec | None:
        self.notice = self.error = ""
        admin, redirect = gate(self, routes.ADMIN_PROOF)
        if admin is None:
            self.access, self.snapshots = "denied", []
            return redirect
        self.access = "admin"
        self._reload()
        return None

    @event
    def take_snapshot(self) -> None:
        admin = current_admin(self)
        if admin is None:
            self.access, self.error = "denied", "Admins only"
            return
        try:
            taken = publish(trigger="admin", created_by=admin.user_id)
        except SnapshotRefused as exc:
            self.error, self.notice = f"Snapshot refused: {exc}", ""
            return
        with db.write() as conn:
            audit.record(conn, admin.user_id, "proof_snapshot", f"snapshot {taken.snapshot_id}",
                         ip=client_ip(self), detail=taken.summary())
        self.notice, self.error = f"Published {taken.summary()}.", ""
        self._reload()

    @event
    def attest(self, form: dict) -> None:
        """The form: snapshot id, asset, address, balance, the signed message, the signature."""
        admin = current_admin(self)
        if admin is None:
            self.access, self.error = "denied", "Admins only"
            return
        snapshot_id = _snapshot_id(str(form.get("snapshot") or "")[:18])
        asset = str(form.get("asset") or "")[:10]
        try:
            with db.write() as conn:
                snapshot = views.latest_or(conn, snapshot_id) if snapshot_id else None
                if snapshot is None:
                    raise ReserveError("Choose a snapshot by its number.")
                decimals = dict(snapshot.assets).get(asset)
                if decimals is None:
                    raise ReserveError(f"{asset or 'That asset'} is not in this snapshot.")
                try:
                    balance = parse_amount(str(form.get("balance") or "")[:40], decimals,
                                           what="Balance")
                except AmountError as exc:
                    raise ReserveError(str(exc)) from None
                reserves.attest(conn, admin.user_id, snapshot.id, asset=asset,
                                address=str(form.get("address") or "")[:100], balance=balance,
                                message=str(form.get("message") or "")[:2000],
                                signature=str(form.get("signature") or "")[:300],
                                ip=client_ip(self))
        except ReserveError as exc:
            self.error, self.notice = str(exc), ""
            return
        self.notice, self.error = "Signature verified: reserve attested.", ""
        self._reload()
