"""The data model, one module per aggregate; importing this package registers every table."""
from portal.models.audit import AuditEvent
from portal.models.bookings import Attendance, AttendanceStatus, Booking, BookingStatus
from portal.models.catalogue import Course, CourseFormat, CourseLevel, Meeting, Session, SessionStatus
from portal.models.jobs import JobRun, MeetingReminder, RunOutcome
from portal.models.hours import Delivery, HoursEntry, HoursSource, HoursTally, HoursTotal, TallyDimension, Verification
from portal.models.notifications import Notification, OutboxEmail, OutboxStatus
from portal.models.organisations import Company, Employee, EmploymentStatus, Gender, Provider, ProviderKind, SizeBand
from portal.models.plans import NeedNotice, PlanItem, Priority, TrainingPlan
from portal.models.reference import CompetenceArea, Municipality, Programme, Region
from portal.models.rescheduling import ProposalStatus, ProposedMeeting, RescheduleProposal
from portal.models.restrictions import Restriction, RestrictionChange, RestrictionScope
from portal.models.users import AccountToken, Role, SignInAttempt, TokenPurpose, User

__all__ = [
    "AccountToken", "SignInAttempt", "TokenPurpose", "Attendance", "AttendanceStatus", "AuditEvent", "Booking", "BookingStatus", "CompetenceArea",
    "Company", "Course", "CourseFormat", "CourseLevel", "Delivery", "Employee", "EmploymentStatus", "Gender",
    "HoursEntry", "HoursSource", "HoursTally", "HoursTotal", "JobRun", "Meeting", "MeetingReminder", "Municipality", "NeedNotice", "Notification", "OutboxEmail",
    "OutboxStatus", "PlanItem", "Priority", "Programme", "ProposalStatus", "ProposedMeeting", "Provider",
    "ProviderKind", "Region", "RescheduleProposal", "Restriction", "RestrictionChange", "RestrictionScope",
    "RunOutcome", "Role", "Session", "SessionStatus", "SizeBand",
    "TallyDimension", "TrainingPlan", "User", "Verification",
]
