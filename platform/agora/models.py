"""Every model of every capability, imported in one place so the metadata is complete."""

from agora.assembly.models import (
    ActionPlan,
    Amendment,
    AssemblySession,
    Ballot,
    BallotOption,
    BallotVoter,
    Body,
    CharterVersion,
    CheckIn,
    CouncilDeliberation,
    Edition,
    FeasibilityNote,
    Measure,
    Membership,
    Milestone,
    Proposal,
    Subject,
    Vote,
    VotingCard,
)
from agora.audit.models import AuditEvent
from agora.billing.models import BillingProfile, Invoice, Quote, QuoteLine, StripeEvent
from agora.draws.models import Draw, Register, RegisterBlock, SubDraw
from agora.identity.models import (
    Account,
    ExternalIdentity,
    IdentityProvider,
    LoginToken,
    RoleGrant,
    StaffAssignment,
)
from agora.jobs.held import HeldJob
from agora.notifications.models import Notification
from agora.petitions.models import Petition, PetitionSignature
from agora.programme.models import Programme, ProgrammeSession
from agora.shared.people import Person
from agora.tenancy.models import Tenant, TenantConfigVersion, TenantDomain

__all__ = [
    "Account",
    "ActionPlan",
    "Amendment",
    "AssemblySession",
    "AuditEvent",
    "Ballot",
    "BallotOption",
    "BallotVoter",
    "BillingProfile",
    "Body",
    "CharterVersion",
    "CheckIn",
    "CouncilDeliberation",
    "Draw",
    "Edition",
    "ExternalIdentity",
    "FeasibilityNote",
    "HeldJob",
    "IdentityProvider",
    "Invoice",
    "LoginToken",
    "Measure",
    "Membership",
    "Milestone",
    "Notification",
    "Person",
    "Petition",
    "PetitionSignature",
    "Programme",
    "ProgrammeSession",
    "Proposal",
    "Quote",
    "QuoteLine",
    "Register",
    "RegisterBlock",
    "RoleGrant",
    "StaffAssignment",
    "StripeEvent",
    "SubDraw",
    "Subject",
    "Tenant",
    "TenantConfigVersion",
    "TenantDomain",
    "Vote",
    "VotingCard",
]
