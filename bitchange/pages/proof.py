"""`/proof`: every published proof-of-liabilities snapshot with its totals and attested
reserves, and for a signed-in user "Verify my balance": their share, their leaves, a check in
the page and the downloadable proof. `/admin/proof`: take a snapshot, attest reserves. Layout
only; the states are `bitchange.state.proof`."""

from __future__ import annotations

import reflex as rx

from bitchange import routes
from bitchange.components.lists import choice_select, messages, table
from bitchange.components.proof_check import proof_check_script
from bitchange.components.shell import page
from bitchange.pages.admin_users import admin_frame
from bitchange.pages.trade import MONO
from bitchange.state.proof import AdminProofState, ProofState

S = ProofState
_WRAP = {**MONO, "word_break": "break_all"}


def history() -> rx.Component:
    return rx.vstack(
        rx.heading("Published snapshots", size="4"),
        table(["#", "Taken", "Root", "Total liabilities", "Reserves (ratio)", ""], S.snapshots,
              lambda r: [r["id"], r["taken"], rx.text(r["root"], style=_WRAP, size="1"),
                         r["totals"], r["reserves"],
                         rx.button("Show", size="1", variant="soft", class_name="proof-show",
                                   on_click=S.select(r["id"]))],
              "proof-snapshot-row", "proof-snapshots",
              empty=("No snapshot has been published yet.",
                     "The exchange publishes one every week.")),
        width="100%",
    )


def selected() -> rx.Component:
    return rx.cond(S.selected != "", rx.card(rx.vstack(
        rx.heading("Snapshot ", S.selected, size="4", id="proof-selected"),
        rx.text("Taken ", S.selected_taken, size="2"),
        rx.text("Root ", rx.code(S.selected_root, id="proof-root", style=_WRAP), size="2"),
        table(["Asset", "Liabilities", "Reserves", "Reserve ratio"], S.assets,
              lambda a: [a["asset"], a["liabilities"], a["reserves"], a["ratio"]],
              "proof-asset-row", "proof-assets",
              empty=("This snapshot lists no assets.", "")),
        rx.cond(S.reserves.length() > 0, rx.vstack(
            rx.heading("Reserve addresses", size="3"),
            rx.text("Each address signed a message naming this snapshot's root with its own "
                    "key; the server checked every signature. Check the balances on any block "
                    "explorer.", size="2"),
            table(["Asset", "Address", "Balance", "Signed message and signature"],
                  S.reserves,
                  lambda r: [r["asset"], rx.text(r["address"], style=_WRAP, size="1"),
                             r["balance"],
                             rx.vstack(rx.text(r["message"], size="1"),
                                       rx.text(r["signature"], style=_WRAP, size="1",
                                               color_scheme="gray"),
                                       rx.text(r["scheme"], size="1", color_scheme="gray"),
                                       spacing="1", max_width="420px")],
                  "proof-reserve-row", "proof-reserves", empty=("", "")),
            width="100%",
        )),
        width="100%",
    ), width="100%"))


def mine() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Verify my balance", size="4"),
        rx.cond(
            S.signed_in,
            rx.cond(
                S.proof_json != "",
                rx.vstack(
                    rx.text("Your account number is ", rx.code("#", S.my_account,
                                                               id="proof-account"),
                            ". What this snapshot counts as owed to you (available, in "
                            "orders, pending withdrawal and staked):", size="2"),
                    table(["Asset", "Amount"], S.my_balances,
                          lambda b: [b["asset"], b["amount"]], "proof-my-balance",
                          "proof-my-balances", empty=("", "")),
                    rx.text("Your leaves and the path of sibling hashes to the root:",
                            size="2"),
                    table(["Position", "Part", "Amounts", "Path (sibling hashes)"],
                          S.my_leaves,
                          lambda leaf: [leaf["position"], leaf["part"], leaf["amounts"],
                                        rx.text(leaf["path"], style=_WRAP, size="1")],
                          "proof-my-leaf", "proof-my-leaves", empty=("", "")),
                    rx.hstack(
                        rx.button("Verify in this page", on_click=S.verify_in_page,
                                  id="proof-verify"),
                        rx.button("Download my proof (JSON)", variant="soft",
                                  on_click=S.download, id="proof-download"),
                        spacing="3", wrap="wrap",
                    ),
                    rx.cond(S.check != "", rx.callout(
                        S.check, id="proof-check",
                        icon=rx.cond(S.check.startswith("Validated"), "circle-check",
                                     "triangle-alert"),
                        color_scheme=rx.cond(S.check.startswith("Validated"), "green",
                                             "red"))),
                    rx.text("For a check that does not trust this page, run the ",
                            rx.link("standalone verifier", href=routes.PROOF_VERIFIER,
                                    is_external=True),
                            " (Python 3, standard library only) on the downloaded file: ",
                            rx.code("python3 verify_liabilities.py bitchange-proof-",
                                    S.selected, ".json --root ", S.selected_root),
                            size="2"),
                    spacing="3", width="100%",
                ),
                rx.text(S.my_note, id="proof-nothing", size="2"),
            ),
            rx.text(rx.link("Log in", href=routes.login(routes.PROOF)),
                    " to check that your balance is counted.", size="2", id="proof-login"),
        ),
        spacing="3", width="100%",
    ), width="100%")


def proof_page() -> rx.Component:
    return page(proof_check_script(), rx.vstack(
        rx.heading("Proof of liabilities and reserves", size="6"),
        rx.text("Every snapshot commits to what the exchange owes each user in a Merkle sum "
                "tree: each node commits to both children's hashes and per-asset sums, so no "
                "total can be understated, and each user can check that their balance is "
                "included in the published total. The ", rx.link(
                    "format", href=routes.PROOF_FORMAT, is_external=True),
                " is public, so anyone can write their own verifier.", size="2"),
        history(), selected(), mine(),
        spacing="4", width="100%",
    ), max_width="1200px")


def admin_proof() -> rx.Component:
    A = AdminProofState
    attest = rx.card(rx.form(rx.vstack(
        rx.heading("Attest a reserve address", size="3"),
        rx.text("Sign a message that contains the snapshot's root with the address's key "
                "(Bitcoin Core's signmessage or any BIP-137 wallet for BTC; an EIP-191 "
                "personal_sign for ETH and USDT), then paste it here. A wrong signature is "
                "refused.", size="2"),
        rx.hstack(
            rx.input(name="snapshot", placeholder="Snapshot #", id="reserve-snapshot",
                     width="120px"),
            choice_select(A.assets, "asset", "reserve-asset"),
            rx.input(name="balance", placeholder="Balance held", id="reserve-balance"),
            spacing="3", wrap="wrap",
        ),
        rx.input(name="address", placeholder="Address", id="reserve-address", width="100%"),
        rx.text_area(name="message", placeholder="The signed message (must contain the root)",
                     id="reserve-message", rows="2", width="100%"),
        rx.input(name="signature", placeholder="Signature (base64 for BTC, 0x-hex for ETH)",
                 id="reserve-signature", width="100%"),
        rx.button("Verify and attest", type="submit", id="reserve-submit"),
        spacing="3", width="100%",
    ), on_submit=A.attest, reset_on_submit=False), width="100%")
    return admin_frame(A.access, rx.vstack(
        rx.heading("Proof of liabilities and reserves", size="7"),
        messages(A.notice, A.error),
        rx.hstack(rx.button("Take and publish a snapshot now", on_click=A.take_snapshot,
                            id="proof-take-snapshot"),
                  rx.link("Public page", href=routes.PROOF), spacing="4", align="center"),
        table(["#", "Taken", "Ledger transaction", "Root", "Total liabilities", "Reserves"],
              A.snapshots,
              lambda r: [r["id"], r["taken"], r["ledger_tx"],
                         rx.text(r["root"], style=_WRAP, size="1"), r["totals"],
                         r["reserves"]],
              "admin-proof-row", "admin-proof-snapshots",
              empty=("No snapshot yet.", "Take the first one with the button above.")),
        attest,
        spacing="4", width="100%",
    ))

