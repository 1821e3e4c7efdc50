"""The data model, one module per aggregate; importing this package registers every table."""
from portal.models.audit import AuditEvent
from portal.models.bookings import Attendance, AttendanceStatus, Booking, BookingStatus
from portal.models.catalogue import Course, CourseFormat, CourseLevel, Meeting, Session, SessionStatus
from portal.models.hours import Delivery, HoursEntry, HoursSource, Verification
from portal.models.notifications import Notification, OutboxEmail, OutboxStatus
from portal.models.organisations import Company, Employee, EmploymentStatus, Gender, Provider, ProviderKind, SizeBand
from portal.models.plans import NeedNotice, PlanItem, Priority, TrainingPlan
from portal.models.reference import CompetenceArea, Municipality, Programme, Region
from portal.models.restrictions import Restriction, RestrictionScope
from portal.models.users import Role, User

__all__ = [
    "Attendance", "AttendanceStatus", "AuditEvent", "Booking", "BookingStatus", "CompetenceArea",
    "Company", "Course", "CourseFormat", "CourseLevel", "Delivery", "Employee", "EmploymentStatus", "Gender",
    "HoursEntry", "HoursSource", "Meeting", "Municipality", "NeedNotice", "Notification", "OutboxEmail",
    "OutboxStatus", "PlanItem", "Priority", "Programme", "Provider", "ProviderKind", "Region",
    "Restriction", "RestrictionScope", "Role", "Session", "SessionStatus", "SizeBand",
    "TrainingPlan", "User", "Verification",
]
