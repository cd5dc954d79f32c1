"""Who may do what: one role × action table, and one table mapping every route to its action.

Enforced at one point (:func:`enforce`, a ``before_request`` hook). A route missing from
:data:`ROUTE_ACTIONS` is refused, and a test fails until it is added.
"""

from __future__ import annotations

from dataclasses import dataclass

from agora.identity.models import Role

ANYONE = "anyone"
AUTHENTICATED = "authenticated"
PLATFORM_ADMIN = "platform_admin"
STAFF = Role.CONSULTANCY_STAFF.value
COMMUNE_ADMIN = Role.COMMUNE_ADMIN.value
ELECTED = Role.ELECTED.value
AGENT = Role.AGENT.value
FACILITATOR = Role.FACILITATOR.value
METHODOLOGY = Role.METHODOLOGY_COMMITTEE.value

#: action → the roles allowed to perform it.
POLICY: dict[str, frozenset[str]] = {
    "public.read": frozenset({ANYONE}),
    "identity.sign_in": frozenset({ANYONE}),
    "account.self": frozenset({AUTHENTICATED}),
    "console.read": frozenset({PLATFORM_ADMIN, STAFF}),
    # Onboarding a commune and moving it along its lifecycle (suspend, archive…): the
    # consultancy.
    "commune.lifecycle": frozenset({PLATFORM_ADMIN, STAFF}),
    "members.read": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    "members.manage": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    # The support programme: followed by the commune's elected members and agents.
    "programme.read": frozenset(
        {PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN, ELECTED, AGENT, FACILITATOR}
    ),
    "programme.manage": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    # The assembly. Body-level rules (who authored a proposal, who is in a closed body's
    # electorate, which body may certify) are checked by the assembly services.
    "assembly.manage": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN, FACILITATOR}),
    "charter.manage": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    # The commune's own rules (its plugins' settings), changed in the browser: its
    # administrator only (the consultancy applies files with ``tenants apply``).
    "rules.edit": frozenset({COMMUNE_ADMIN}),
    # Who exactly is the commune's choice (assembly.subject_submitters, checked by the
    # subject service): anyone, signed-in residents, or members of the bodies.
    "subject.submit": frozenset({ANYONE}),
    "subject.review": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN, AGENT}),
    "proposal.edit": frozenset({AUTHENTICATED}),
    # Any signed-in participant tables an amendment; the proposal's authors decide on it.
    "amendment.table": frozenset({AUTHENTICATED}),
    "feasibility.annotate": frozenset({AGENT, COMMUNE_ADMIN}),
    # In an open session the voting code handed at check-in is the right to vote; in a
    # closed body, membership with a voting right (both checked by the ballot service).
    "vote.cast": frozenset({ANYONE}),
    # The holder of a voting card confirms their presence with its code (checked by the
    # session service against the cards' hashes); staff check people in at the desk.
    "presence.confirm": frozenset({ANYONE}),
    "ballot.certify": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    "council.record": frozenset({COMMUNE_ADMIN}),
    "measure.update": frozenset({COMMUNE_ADMIN, AGENT, ELECTED}),
    # Petitions: any signed-in participant opens and signs (whether they may sign, under the
    # commune's interpellation rules, is checked by the petition service); staff record what
    # the mayor and the council did.
    "petition.open": frozenset({AUTHENTICATED}),
    "petition.sign": frozenset({AUTHENTICATED}),
    "petition.manage": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    # Draws: the commune's administrators and the consultancy's staff prepare and run them
    # (registers hold personal data: elected members never see them); the method is public
    # once published.
    "draw.prepare": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    "draw.run": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    # A door-to-door pair (an elected member and an agent) records the outcomes of its own
    # round's addresses only (checked by the visit service); nothing else of the pool.
    "draw.visit": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN, ELECTED, AGENT}),
    # Agents type in the answers that came back on paper.
    "draw.enter_responses": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN, AGENT}),
    # A resident answers an invitation with the code printed on the letter.
    "draw.respond": frozenset({ANYONE}),
    # The methodology committee confirms a replacement outside the quotas.
    "draw.confirm_deviation": frozenset({METHODOLOGY}),
    # The panel and its reserve, followed by those who run the draw and by the committee
    # (which sees profiles, not names: the page checks draw.run for those).
    "draw.follow": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN, METHODOLOGY}),
    # Quotes and invoices: the consultancy drafts and sends quotes (console host, communes it
    # follows); the commune's administrator accepts or refuses them; both read them.
    "billing.read": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    "billing.decide": frozenset({COMMUNE_ADMIN}),
    "billing.manage": frozenset({PLATFORM_ADMIN, STAFF}),
    # Stripe's webhooks: the signature on the body is the credential (checked by the view).
    "billing.webhook": frozenset({ANYONE}),
}


@dataclass(frozen=True)
class RouteRule:
    """Where a route is served and the action it performs."""

    action: str
    #: "tenant" (a commune's host), "platform" (the console's), "auth" (sign-in callbacks) or
    #: "any".
    host: str


#: endpoint → rule. "home" serves both the commune's site and the console.
ROUTE_ACTIONS: dict[str, RouteRule | dict[str, RouteRule]] = {
    "static": RouteRule("public.read", "any"),
    "home": {
        "tenant": RouteRule("public.read", "tenant"),
        "platform": RouteRule("console.read", "platform"),
    },
    "public.rules": RouteRule("public.read", "tenant"),
    "public.rules_version": RouteRule("public.read", "tenant"),
    "public.rules_version_toml": RouteRule("public.read", "tenant"),
    "rules_editor.edit": RouteRule("rules.edit", "tenant"),
    "rules_editor.submit": RouteRule("rules.edit", "tenant"),
    "rules_editor.publish": RouteRule("rules.edit", "tenant"),
    "public.journal": RouteRule("public.read", "tenant"),
    "public.journal_event": RouteRule("public.read", "tenant"),
    "public.theme_css": RouteRule("public.read", "tenant"),
    "console.plugins": RouteRule("console.read", "platform"),
    "console.open_commune": RouteRule("console.read", "platform"),
    "console.commune_page": RouteRule("console.read", "platform"),
    "console.change_commune_status": RouteRule("commune.lifecycle", "platform"),
    "console.new_commune": RouteRule("commune.lifecycle", "platform"),
    "console.create_commune": RouteRule("commune.lifecycle", "platform"),
    "identity.login": RouteRule("identity.sign_in", "any"),
    "identity.send_magic_link": RouteRule("identity.sign_in", "any"),
    "identity.confirm_magic_link": RouteRule("identity.sign_in", "any"),
    "identity.use_magic_link": RouteRule("identity.sign_in", "any"),
    "identity.second_factor": RouteRule("identity.sign_in", "any"),
    "identity.check_second_factor": RouteRule("identity.sign_in", "any"),
    "identity.handoff": RouteRule("identity.sign_in", "any"),
    "identity.logout": RouteRule("identity.sign_in", "any"),
    "identity.oidc_start": RouteRule("identity.sign_in", "any"),
    "identity.oidc_begin": RouteRule("identity.sign_in", "auth"),
    "identity.oidc_callback": RouteRule("identity.sign_in", "auth"),
    "identity.oidc_logout": RouteRule("identity.sign_in", "auth"),
    "identity.oidc_logged_out": RouteRule("identity.sign_in", "auth"),
    "identity.my_data": RouteRule("account.self", "any"),
    "identity.my_data_json": RouteRule("account.self", "any"),
    "identity.erase_me": RouteRule("account.self", "any"),
    "identity.end_my_sessions": RouteRule("account.self", "any"),
    "identity.members": RouteRule("members.read", "tenant"),
    "identity.grant_role": RouteRule("members.manage", "tenant"),
    "identity.revoke_role": RouteRule("members.manage", "tenant"),
    "programme.timeline": RouteRule("programme.read", "tenant"),
    "programme.instantiate": RouteRule("programme.manage", "tenant"),
    "programme.session_detail": RouteRule("programme.read", "tenant"),
    "programme.change_status": RouteRule("programme.manage", "tenant"),
    "programme.accept_deliverable": RouteRule("programme.manage", "tenant"),
    "programme.calendar_feed": RouteRule("public.read", "tenant"),
    "programme.across_communes": RouteRule("console.read", "platform"),
    "indicators.across_communes": RouteRule("console.read", "platform"),
    "indicators.across_communes_csv": RouteRule("console.read", "platform"),
    # A calendar application cannot sign in: the signed address is the credential.
    "programme.staff_calendar": RouteRule("public.read", "platform"),
    "programme.renew_staff_calendar": RouteRule("console.read", "platform"),
    "assembly.edition_page": RouteRule("public.read", "tenant"),
    "assembly.subject_page": RouteRule("public.read", "tenant"),
    "assembly.submit_subject": RouteRule("subject.submit", "tenant"),
    "assembly.proposal_page": RouteRule("public.read", "tenant"),
    "assembly.note_page": RouteRule("public.read", "tenant"),
    "assembly.edit_proposal": RouteRule("proposal.edit", "tenant"),
    "assembly.table_amendment": RouteRule("amendment.table", "tenant"),
    "notifications.index": RouteRule("account.self", "tenant"),
    "notifications.mark_read": RouteRule("account.self", "tenant"),
    "assembly.decide_amendment": RouteRule("proposal.edit", "tenant"),
    "assembly.annotate_proposal": RouteRule("feasibility.annotate", "tenant"),
    "assembly.ballot_page": RouteRule("public.read", "tenant"),
    "assembly.option_page": RouteRule("public.read", "tenant"),
    "assembly.cast_vote": RouteRule("vote.cast", "tenant"),
    "assembly.vote_recorded": RouteRule("public.read", "tenant"),
    "assembly.presence_page": RouteRule("public.read", "tenant"),
    "assembly.presence_recorded": RouteRule("public.read", "tenant"),
    "assembly.confirm_presence": RouteRule("presence.confirm", "tenant"),
    "assembly.charter_page": RouteRule("public.read", "tenant"),
    "assembly.charter_version": RouteRule("public.read", "tenant"),
    "assembly.charter_pdf": RouteRule("public.read", "tenant"),
    "assembly.measure_page": RouteRule("public.read", "tenant"),
    "assembly.add_milestone": RouteRule("measure.update", "tenant"),
    "assembly.reach_milestone": RouteRule("measure.update", "tenant"),
    "assembly.council_page": RouteRule("public.read", "tenant"),
    "assembly.follow_up_pdf": RouteRule("public.read", "tenant"),
    "assembly.deliberation_page": RouteRule("public.read", "tenant"),
    "assembly.sessions_calendar": RouteRule("public.read", "tenant"),
    "assembly.decisions_csv": RouteRule("public.read", "tenant"),
    "assembly_admin.dashboard": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.open_edition": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.advance_edition": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.edition_workspace": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.edition_step": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.measure_status_page": RouteRule("measure.update", "tenant"),
    "assembly_admin.update_measure": RouteRule("measure.update", "tenant"),
    "assembly_admin.body_page": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.membership_page": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.person_page": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.add_member": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.install_body": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.review_subject": RouteRule("subject.review", "tenant"),
    "assembly_admin.plan_session": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.session_page": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.check_in_page": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.session_status": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.check_in": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.roster": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.check_in_member": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.voting_cards": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.open_ballot": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.close_ballot": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.open_runoff": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.break_tie": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.certify_ballot": RouteRule("ballot.certify", "tenant"),
    "assembly_admin.ballot_not_decided": RouteRule("ballot.certify", "tenant"),
    "assembly_admin.draft_proposal": RouteRule("proposal.edit", "tenant"),
    "assembly_admin.draft_charter": RouteRule("charter.manage", "tenant"),
    "assembly_admin.advance_charter": RouteRule("charter.manage", "tenant"),
    "assembly_admin.transmit_plan": RouteRule("assembly.manage", "tenant"),
    "assembly_admin.deliberation_form": RouteRule("council.record", "tenant"),
    "assembly_admin.record_deliberation": RouteRule("council.record", "tenant"),
    "petitions.index": RouteRule("public.read", "tenant"),
    "petitions.petition_page": RouteRule("public.read", "tenant"),
    "petitions.petitions_csv": RouteRule("public.read", "tenant"),
    "petitions.new_petition": RouteRule("petition.open", "tenant"),
    "petitions.open_petition": RouteRule("petition.open", "tenant"),
    "petitions.sign": RouteRule("petition.sign", "tenant"),
    "petitions.admin_page": RouteRule("petition.manage", "tenant"),
    "petitions.record_meeting": RouteRule("petition.manage", "tenant"),
    "petitions.schedule_council": RouteRule("petition.manage", "tenant"),
    "petitions.record_decision": RouteRule("petition.manage", "tenant"),
    "draws.index": RouteRule("draw.prepare", "tenant"),
    "draws.new_draw": RouteRule("draw.prepare", "tenant"),
    "draws.draw_page": RouteRule("draw.prepare", "tenant"),
    "draws.change_method": RouteRule("draw.prepare", "tenant"),
    "draws.upload_register": RouteRule("draw.prepare", "tenant"),
    "draws.register_page": RouteRule("draw.prepare", "tenant"),
    "draws.register_columns": RouteRule("draw.prepare", "tenant"),
    "draws.members_volunteers": RouteRule("draw.prepare", "tenant"),
    "draws.publish_method": RouteRule("draw.prepare", "tenant"),
    "draws.method_page": RouteRule("public.read", "tenant"),
    # Draws, stage 1: the commitment, the drawing of the invitations, the reveal.
    "draws.commit_stage1": RouteRule("draw.run", "tenant"),
    "draws.stage1_page": RouteRule("draw.prepare", "tenant"),
    "draws.run_stage1": RouteRule("draw.run", "tenant"),
    "draws.reveal_stage1": RouteRule("draw.run", "tenant"),
    # Answers and the pool: residents answer with their letter's code; agents type in
    # paper answers; staff move the steps and relax a quota the pool cannot meet.
    "draws.answer_with_code": RouteRule("draw.respond", "tenant"),
    "draws.respond": RouteRule("draw.respond", "tenant"),
    "draws.responses_page": RouteRule("draw.enter_responses", "tenant"),
    "draws.answers_step": RouteRule("draw.run", "tenant"),
    "draws.feasibility_page": RouteRule("draw.run", "tenant"),
    # Stage 2: the lottery, the panel, replacements; the committee confirms a quota gap.
    "draws.lottery_page": RouteRule("draw.run", "tenant"),
    "draws.run_lottery": RouteRule("draw.run", "tenant"),
    "draws.reveal_panel": RouteRule("draw.run", "tenant"),
    "draws.panel_page": RouteRule("draw.follow", "tenant"),
    "draws.confirm_pick": RouteRule("draw.run", "tenant"),
    "draws.withdraw_pick": RouteRule("draw.run", "tenant"),
    "draws.confirm_gap": RouteRule("draw.confirm_deviation", "tenant"),
    "draws.seat": RouteRule("draw.run", "tenant"),
    # Letters and visits: a pair sees its own round only (checked by the visit service).
    "draws.letters_pdf": RouteRule("draw.run", "tenant"),
    "draws.letters_page": RouteRule("draw.run", "tenant"),
    "draws.request_letters": RouteRule("draw.run", "tenant"),
    "draws.letters_part": RouteRule("draw.run", "tenant"),
    "draws.letters_zip": RouteRule("draw.run", "tenant"),
    "draws.rounds_page": RouteRule("draw.run", "tenant"),
    "draws.my_rounds": RouteRule("draw.visit", "tenant"),
    "draws.visit_round": RouteRule("draw.visit", "tenant"),
    "draws.visit_outcome": RouteRule("draw.visit", "tenant"),
    "draws.visit_sheet": RouteRule("draw.visit", "tenant"),
    # The public record of a draw (record_views).
    "draws.record_page": RouteRule("public.read", "tenant"),
    "draws.record_export": RouteRule("public.read", "tenant"),
    "draws.engine_record": RouteRule("public.read", "tenant"),
    "draws.funnel_csv": RouteRule("public.read", "tenant"),
    "draws.representativeness_csv": RouteRule("public.read", "tenant"),
    "draws.proces_verbal": RouteRule("public.read", "tenant"),
    # Billing: the commune's page, the consultancy's page in the console, Stripe's webhooks.
    "billing.commune_page": RouteRule("billing.read", "tenant"),
    "billing.quote_pdf": RouteRule("billing.read", "tenant"),
    "billing.invoice_pdf": RouteRule("billing.read", "tenant"),
    "billing.invoice_facturx": RouteRule("billing.read", "tenant"),
    "billing.accept_quote": RouteRule("billing.decide", "tenant"),
    "billing.refuse_quote": RouteRule("billing.decide", "tenant"),
    "billing_console.console_page": RouteRule("billing.manage", "platform"),
    "billing_console.save_profile": RouteRule("billing.manage", "platform"),
    "billing_console.draft_quote": RouteRule("billing.manage", "platform"),
    "billing_console.add_line": RouteRule("billing.manage", "platform"),
    "billing_console.remove_line": RouteRule("billing.manage", "platform"),
    "billing_console.send_quote": RouteRule("billing.manage", "platform"),
    "billing_console.issue_invoices": RouteRule("billing.manage", "platform"),
    "billing_console.staff_quote_pdf": RouteRule("billing.manage", "platform"),
    "billing_console.staff_invoice_pdf": RouteRule("billing.manage", "platform"),
    "billing_console.staff_invoice_facturx": RouteRule("billing.manage", "platform"),
    "billing_webhook.stripe_webhook": RouteRule("billing.webhook", "platform"),
}


def all_rules() -> list[RouteRule]:
    rules: list[RouteRule] = []
    for entry in ROUTE_ACTIONS.values():
        rules.extend(entry.values() if isinstance(entry, dict) else [entry])
    return rules


def rule_for(endpoint: str | None, host_kind: str) -> RouteRule | None:
    entry = ROUTE_ACTIONS.get(endpoint or "")
    if isinstance(entry, dict):
        return entry.get(host_kind)
    return entry


def allowed(roles: frozenset[str], action: str) -> bool:
    """Whether someone holding ``roles`` may perform ``action``."""
    permitted = POLICY[action]
    return ANYONE in permitted or bool(roles & permitted)
