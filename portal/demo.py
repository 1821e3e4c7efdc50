"""The Swedish demo programme: companies, providers, courses, bookings, hours and plans around one day."""
import math
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import func, select, update

from portal.extensions import db
from portal.models import (
    Attendance, AttendanceStatus, AuditEvent, Booking, BookingStatus, Company, CompetenceArea, Course, Delivery,
    CourseFormat, CourseLevel, Employee, EmploymentStatus, Gender, HoursEntry, HoursSource, Meeting,
    Municipality, Notification, PlanItem, Priority, Programme, Provider, ProviderKind, Region, Restriction,
    RestrictionScope, Role, Session, SessionStatus, SizeBand, TrainingPlan, User, Verification,
)
from portal.models.organisations import org_number
from portal.services.accounts import hash_password
from portal.services.reference import load_reference_data

DEMO_PASSWORD = "kompetenslyft-demo"
DEMO_ACCOUNTS = [
    ("hr@demo.example", "HR at Mälarverken AB (company)"),
    ("provider@demo.example", "course provider Mälardalens universitet"),
    ("pm@demo.example", "programme management (sees everything)"),
]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SWEDISH_HOLIDAYS = holidays.country_holidays("SE")

# name, municipality, size band, mail domain, HR user's name
COMPANIES = [
    ("Mälarverken AB", "Västerås", SizeBand.VERY_LARGE, "malarverken", "Karin Lindqvist"),
    ("Köpingsbro Hydraulik AB", "Köping", SizeBand.MEDIUM, "kopingsbro", "Peter Sundberg"),
    ("Salaberg Mekaniska AB", "Sala", SizeBand.SMALL, "salaberg", "Lena Åkesson"),
    ("Fagerstål Verktyg AB", "Fagersta", SizeBand.MEDIUM, "fagerstal", "Tomas Wikström"),
    ("Arbogaån Precision AB", "Arboga", SizeBand.SMALL, "arbogaan", "Ulrika Dahlberg"),
    ("Hallsta Gjuteri AB", "Hallstahammar", SizeBand.LARGE, "hallstagjuteri", "Magnus Hedlund"),
    ("Klaraborg Automation AB", "Karlstad", SizeBand.MEDIUM, "klaraborg", "Sofia Berglund"),
    ("Vänerhamn Marinteknik AB", "Kristinehamn", SizeBand.LARGE, "vanerhamn", "Jonas Eklund"),
    ("Glafsfjordens Svets & Plåt AB", "Arvika", SizeBand.SMALL, "glafsfjorden", "Annika Olsson"),
    ("Ekshärad Smide & Maskin AB", "Hagfors", SizeBand.MEDIUM, "eksharadsmide", "Henrik Magnusson"),
    ("Byälvens Trä & Metall AB", "Säffle", SizeBand.SMALL, "byalven", "Camilla Strand"),
    ("Bergslagens Kablage AB", "Filipstad", SizeBand.MEDIUM, "bergslagskablage", "Fredrik Lund"),
]

# name, kind, municipality, slug for meeting links, venue prefix, rooms (one per course), user's name
PROVIDERS = [
    ("Mälardalens universitet", ProviderKind.UNIVERSITY, "Västerås", "mdu", "Mälardalens universitet, Västerås",
     ["sal U2-024", "Additivlabbet", "Robotlabbet", "Mätlabbet", "sal R1-131"], "Anders Ekström"),
    ("Karlstads universitet", ProviderKind.UNIVERSITY, "Karlstad", "kau", "Karlstads universitet, Karlstad",
     ["sal 21A342", "sal 1B309", "datorsal 9C203", "Materiallabbet", "sal 21A244"], "Helena Sjöberg"),
    ("Yrkeshögskolan Bergslagen", ProviderKind.HIGHER_VOCATIONAL, "Fagersta", "yhb",
     "Yrkeshögskolan Bergslagen, Fagersta",
     ["Automationslabbet", "Underhållsverkstaden", "Hydrauliksalen", "sal 104", "Elverkstaden"], "Mikael Nyström"),
    ("Teknikcollege Värmland, nod Kristinehamn", ProviderKind.TEKNIKCOLLEGE, "Kristinehamn", "tcvarmland",
     "Teknikcollege Värmland, Kristinehamn",
     ["svetshall 1", "svetshall 2", "CNC-verkstaden", "truckbanan", "lektionssal 3"], "Sara Holm"),
    ("Teknikcollege Västmanland, nod Köping", ProviderKind.TEKNIKCOLLEGE, "Köping", "tcvastmanland",
     "Teknikcollege Västmanland, Köping",
     ["automationssalen", "robotcellen", "produktionshallen", "lektionssal 2", "elsalen"], "Johan Forsberg"),
]

# Meeting slots in local time; a session's meetings all use its course's slot.
SLOTS = {"day": (time(8, 0), time(16, 0)), "am": (time(8, 30), time(12, 0)), "pm": (time(13, 0), time(16, 30))}
FORMATS = {"p": CourseFormat.IN_PERSON, "d": CourseFormat.DIGITAL, "h": CourseFormat.HYBRID}
LEVELS = {"i": CourseLevel.INTRODUCTORY, "m": CourseLevel.INTERMEDIATE, "a": CourseLevel.ADVANCED}

# provider, title, areas, format, meetings, slot, level, language, certified, shared niche, description
COURSES = [
    (0, "CNC-programmering grund", "cnc", "p", 3, "day", "i", "sv", False, False,
     "G-kod och CAM för svarvning och fräsning. Du skriver, simulerar och kör egna program i verkstaden."),
    (0, "Additiv tillverkning i metall", "additive", "h", 2, "day", "m", "sv", False, True,
     "Pulverbädd och DED från konstruktion till efterbearbetning. När lönar sig additiv tillverkning?"),
    (0, "Robotprogrammering ABB", "robotics automation", "p", 3, "day", "m", "sv", False, True,
     "RAPID, manöverenhet och RobotStudio. Kursen avslutas med en egen plock- och packcell i labbet."),
    (0, "Mätteknik och kvalitetssäkring", "quality", "p", 2, "day", "m", "sv", False, False,
     "Mätosäkerhet, mätsystemanalys och koordinatmätmaskin. Du lär dig välja mätmetod efter toleransen."),
    (0, "Industrial data analysis for production", "digital", "d", 4, "pm", "a", "en", False, True,
     "Collect, clean and visualise machine data in Python. You build a dashboard for your own line."),
    (1, "Ledarskap för produktionsledare", "leadership", "h", 4, "pm", "m", "sv", False, False,
     "Coachande ledarskap, svåra samtal och arbetsmiljöansvar. Mellan träffarna prövar du verktygen i din grupp."),
    (1, "Lean i praktiken", "lean", "p", 2, "day", "i", "sv", False, False,
     "Värdeflöde, standardiserat arbete och ständiga förbättringar. Dag två blir en förbättringsvecka i miniformat."),
    (1, "Digitala verktyg i produktionen", "digital", "d", 3, "pm", "i", "sv", False, False,
     "Digitala instruktioner, Teams och delade dokument i verkstaden. För dig som vill bli tryggare med systemen."),
    (1, "Materialteknik för svetsade konstruktioner", "welding quality", "h", 2, "day", "a", "sv", False, True,
     "Stålsorter, värmepåverkan och sprickor i svetsade förband. Underlag för val av tillsatsmaterial och metod."),
    (1, "Leading change in industrial organisations", "leadership", "d", 3, "am", "m", "en", False, False,
     "Leading people through automation and reorganisation. Swedish industry cases discussed in small groups."),
    (2, "PLC-programmering med Siemens TIA Portal", "automation", "p", 4, "day", "m", "sv", False, True,
     "S7-1500 i TIA Portal med ladder och SCL. Du felsöker och bygger ut en verklig transportbandsstyrning."),
    (2, "Förebyggande underhåll", "maintenance", "h", 2, "day", "i", "sv", False, False,
     "Underhållsplanering, tillståndsövervakning och TPM. Prioritera åtgärder efter risk och stilleståndskostnad."),
    (2, "Hydraulik och pneumatik", "maintenance automation", "p", 3, "day", "i", "sv", False, False,
     "Komponenter, schemaläsning och felsökning. Mycket praktik i skolans hydraulik- och pneumatikrigg."),
    (2, "Ritningsläsning och toleranser", "quality cnc", "d", 3, "pm", "i", "sv", False, False,
     "Vyer, måttsättning och toleranser enligt ISO GPS. Distansövningar på riktiga ritningar från industrin."),
    (2, "Elsäkerhet för icke-elektriker", "electrical safety", "p", 1, "day", "i", "sv", False, False,
     "Vad du får göra vid elektrisk utrustning enligt ESA. För operatörer och montörer nära maskinernas elskåp."),
    (3, "MIG/MAG-svetsning", "welding", "p", 4, "day", "i", "sv", True, False,
     "MIG/MAG-svetsning av stål i alla lägen. Kursen förbereder för svetsprov enligt SS-EN ISO 9606-1."),
    (3, "TIG-svetsning i rostfritt", "welding", "p", 3, "day", "a", "sv", True, True,
     "TIG-svetsning av tunnplåt och rör i rostfritt. För erfarna svetsare som möter processindustrins krav."),
    (3, "CNC-fräsning fortsättning", "cnc", "p", 3, "day", "m", "sv", True, False,
     "Femaxlig fräsning, verktygsval och skärdata för svåra material. Du optimerar ett program från jobbet."),
    (3, "Truckkörning A och B", "safety", "p", 2, "day", "i", "sv", True, False,
     "Teori och praktik för truckbehörighet A och B enligt TLP10. Avslutas med teoriprov och uppkörning."),
    (3, "Heta arbeten", "safety", "p", 1, "day", "i", "sv", True, False,
     "Brandskydd vid svetsning, slipning och skärning. Godkänd kurs ger certifikat för heta arbeten i fem år."),
    (4, "Grundläggande automation", "automation electrical", "h", 3, "day", "i", "sv", True, False,
     "Givare, ställdon och styrsystemens uppbyggnad. För operatörer som tar ansvar för automatiserade linjer."),
    (4, "Robotsäkerhet och cellkonstruktion", "robotics safety", "p", 1, "day", "m", "sv", True, True,
     "Riskbedömning, skydd och maskindirektivet för robotceller. För dig som bygger om eller ansvarar för celler."),
    (4, "5S och visuell styrning", "lean", "p", 1, "day", "i", "sv", False, False,
     "Ordning och reda som grund för förbättringsarbete. Teori varvas med ett 5S-pass i skolans produktionshall."),
    (4, "Kvalitetsverktyg: 8D och Ishikawa", "quality lean", "d", 2, "pm", "m", "sv", False, False,
     "Problemlösning med 8D, fiskbensdiagram och 5 varför. Ta med ett eget kvalitetsproblem att arbeta med."),
    (4, "Ellära för automationstekniker", "electrical automation", "p", 3, "day", "m", "sv", True, False,
     "Ellära, mätning och felsökning i styrkretsar. Bygger vidare på kursen Grundläggande automation."),
]

WOMEN = ["Anna", "Eva", "Maria", "Karin", "Sara", "Lena", "Emma", "Johanna", "Linnea", "Elin", "Malin", "Sofia",
         "Ida", "Hanna", "Amira", "Jenny", "Therese", "Camilla", "Frida", "Ulrika", "Åsa", "Marie", "Nour",
         "Helena", "Josefin", "Anna-Karin", "Elsa", "Petra", "Zeynep", "Ingrid"]
MEN = ["Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Mikael", "Nils", "Jonas", "Oskar", "Mattias", "Daniel",
       "Andreas", "Fredrik", "Magnus", "Björn", "Stefan", "Ali", "Mohammed", "Tomas", "Göran", "Patrik", "Jesper",
       "Viktor", "Emil", "Ahmed", "Kenneth", "Håkan", "Jan-Erik", "Dragan"]
SURNAMES = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
            "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Jönsson",
            "Lindberg", "Jakobsson", "Magnusson", "Lindström", "Olofsson", "Lindqvist", "Berglund", "Axelsson",
            "Lundgren", "Holmberg", "Forsberg", "Sandberg", "Åberg", "Hedström", "Ekström", "Söderberg",
            "Nyström", "Mattsson", "Hussein", "Yilmaz", "Kovačević", "Wallin", "Falk", "Björk"]
JOB_ROLES = ["operatör", "operatör", "CNC-operatör", "svetsare", "underhållstekniker", "produktionsledare",
             "kvalitetstekniker", "montör", "montör", "truckförare", "beredare", "automationstekniker",
             "lagerarbetare", "produktionstekniker", "elektriker"]

# Why a company wants each competence, as HR would write it in the plan.
AREA_NOTES = {
    "cnc": "Nya femaxliga maskiner kräver fler operatörer som kan programmera själva.",
    "automation": "Linjen byggs om till Siemens-styrning; fler behöver kunna felsöka PLC.",
    "welding": "Kunden kräver svetsbehörighet enligt ISO 9606 från nästa år.",
    "additive": "Vi utreder 3D-printade reservdelar och behöver grundkunskap i gruppen.",
    "lean": "Förbättringsarbetet ska drivas av teamen själva, inte bara av ledningen.",
    "quality": "Kassationerna ska halveras; mätning och problemlösning behöver stärkas.",
    "leadership": "Nya skiftledare behöver stöd i ledarskap och arbetsmiljöansvar.",
    "digital": "Pappersinstruktioner ersätts av digitala; alla behöver vara med.",
    "safety": "Tillbudsrapporterna visar behov av repetition i säkerhetsrutiner.",
    "maintenance": "Stilleståndstiden ska ner genom förebyggande underhåll i egen regi.",
    "robotics": "Två nya robotceller installeras; operatörerna ska kunna hantera dem.",
    "electrical": "Fler ska få arbeta nära elskåpen utan att riskera säkerheten.",
}

MANUAL_TRAINING = ["Webbkurs i ritningsläsning", "Internutbildning: ny svetsrobot", "E-learning: heta arbeten",
                   "Självstudier: Excel för produktionsuppföljning", "Intern introduktion: 5S på linje 2",
                   "Webbinarium: Industri 4.0 i mindre företag", "Digital kurs: grundläggande hydraulik",
                   "Internutbildning: säker lyftteknik", "Webbkurs: arbetsmiljö och riskbedömning",
                   "E-learning: kvalitetsledning enligt ISO 9001"]
REJECTED_TRAINING = [
    (1, "Personalmöte om ny organisation", "Personalmöten räknas inte som kompetensutveckling i programmet."),
    (6, "Mässbesök Elmia Subcontractor", "Mässbesök ingår inte i programmets godkända aktiviteter."),
]


@dataclass
class _Demo:
    """What the parts share while the programme is built."""

    rng: random.Random
    anchor: date
    now: datetime  # "today" in the demo: nothing is booked or recorded after it
    programme: Programme | None = None
    areas: dict[str, CompetenceArea] = field(default_factory=dict)
    places: dict[str, Municipality] = field(default_factory=dict)
    companies: list[Company] = field(default_factory=list)
    providers: list[Provider] = field(default_factory=list)
    hr: dict[Company, User] = field(default_factory=dict)
    provider_users: dict[Provider, User] = field(default_factory=dict)
    pm: User | None = None
    employees: dict[Company, list[Employee]] = field(default_factory=dict)
    courses: list[Course] = field(default_factory=list)
    course_areas: dict[Course, list[str]] = field(default_factory=dict)
    sessions: list[Session] = field(default_factory=list)
    plan_items: dict[Company, list[PlanItem]] = field(default_factory=dict)
    plan_places: dict[PlanItem, set[Employee]] = field(default_factory=dict)  # who each item's bookings serve
    varmland_id: int = 0
    restriction: Restriction | None = None
    postpone_targets: list[Session] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)


def build_demo_programme(anchor: date) -> None:
    """Fill an empty database with the demo programme; dates are laid out around `anchor` (a Monday)."""
    load_reference_data()
    demo = _Demo(rng=random.Random(2026), anchor=anchor, now=_at(anchor, time(9, 0)))
    demo.areas = {a.code: a for a in db.session.scalars(select(CompetenceArea).order_by(CompetenceArea.code))}
    demo.places = {m.name: m for m in db.session.scalars(select(Municipality).order_by(Municipality.code))}
    demo.varmland_id = db.session.scalars(select(Region.id).where(Region.name == "Värmland")).one()
    _programme(demo)
    _companies(demo)
    _providers(demo)
    _users(demo)
    db.session.flush()  # user ids are written into plain foreign-key columns below
    _restriction(demo)
    _employees(demo)
    _courses(demo)
    _sessions(demo)
    _plans(demo)
    _bookings(demo)
    _attendance_and_hours(demo)
    _manual_hours(demo)
    db.session.flush()  # postponing, audit events and notifications name rows by id
    _postpone(demo)
    _audit_and_notifications(demo)
    _count_seats()
    db.session.flush()


def _count_seats() -> None:
    """Each session's seat counter, as the booking service would have kept it."""
    booked = (
        select(func.count(Booking.id))
        .where(Booking.session_id == Session.id, Booking.status == BookingStatus.BOOKED)
        .scalar_subquery()
    )
    # updated_at keeps its demo value: the counter is bookkeeping, not an edit.
    db.session.execute(
        update(Session).values(seats_taken=booked, updated_at=Session.updated_at).execution_options(synchronize_session=False)
    )


def _at(day: date, clock: time) -> datetime:
    """A Swedish wall-clock time as the UTC-aware datetime the models store."""
    return datetime.combine(day, clock, tzinfo=STOCKHOLM).astimezone(timezone.utc)


def _office_hours(rng: random.Random, after: datetime, before: datetime) -> datetime:
    """A moment strictly between two instants on a day between them, in office hours, when HR books."""
    first = after.astimezone(STOCKHOLM).date() + timedelta(days=1)
    last = before.astimezone(STOCKHOLM).date() - timedelta(days=1)
    if last < first:
        return after + (before - after) / 2
    day = first + timedelta(days=rng.randint(0, (last - first).days))
    if day.weekday() >= 5 and day - timedelta(days=day.weekday() - 4) >= first:
        day -= timedelta(days=day.weekday() - 4)  # the Friday before
    return _at(day, time(8, 0)) + timedelta(minutes=rng.randint(0, 510))


def _month_start(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


def _working_day(day: date) -> date:
    while day.weekday() >= 5 or day in SWEDISH_HOLIDAYS:
        day += timedelta(days=1)
    return day


def _org_number(rng: random.Random, taken: set[str]) -> str:
    """A valid, unused organisation number: 556 (aktiebolag), six digits, Luhn check digit."""
    while True:
        number = org_number("556" + "".join(str(rng.randint(0, 9)) for _ in range(6)))
        if number not in taken:
            taken.add(number)
            return number


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in folded if not unicodedata.combining(c)).replace(" ", "")


def _programme(demo: _Demo) -> None:
    demo.programme = Programme(
        name="Ett kompetenslyft för Sverige", funder="Europeiska socialfonden och Region Värmland",
        period_start=_month_start(demo.anchor, -18), period_end=_month_start(demo.anchor, 13) - timedelta(days=1),
        target_individuals=1000, target_hours=12000, notice_days=14, auto_confirm_reschedule=False,
    )
    db.session.add(demo.programme)


def _joined(demo: _Demo, order: int) -> datetime:
    """When an organisation or person joined: in the programme's first weeks, in a fixed order."""
    return _at(demo.programme.period_start, time(9, 0)) + timedelta(days=order // 3, minutes=7 * order)


def _companies(demo: _Demo) -> None:
    taken: set[str] = set()
    for i, (name, place, size, _domain, _hr) in enumerate(COMPANIES):
        company = Company(name=name, org_number=_org_number(demo.rng, taken), municipality=demo.places[place],
                          size_band=size, calendar_token=None, created_at=_joined(demo, i))
        demo.companies.append(company)
        db.session.add(company)


def _providers(demo: _Demo) -> None:
    for i, (name, kind, place, *_rest) in enumerate(PROVIDERS):
        provider = Provider(name=name, kind=kind, municipality=demo.places[place], created_at=_joined(demo, i))
        demo.providers.append(provider)
        db.session.add(provider)


def _users(demo: _Demo) -> None:
    # One hash for every demo account: they share the password, and hashing is slow on purpose.
    password_hash = hash_password(DEMO_PASSWORD)

    def user(email: str, name: str, role: Role, order: int, **tenant) -> User:
        account = User(email=email, name=name, password_hash=password_hash, role=role,
                       created_at=_joined(demo, order), **tenant)
        db.session.add(account)
        return account

    demo.pm = user("pm@demo.example", "Eva Bergström", Role.PM, 0)
    for n, (company, spec) in enumerate(zip(demo.companies, COMPANIES), start=1):
        email = "hr@demo.example" if n == 1 else f"hr{n}@demo.example"
        demo.hr[company] = user(email, spec[4], Role.HR, n, company=company)
    for n, (provider, spec) in enumerate(zip(demo.providers, PROVIDERS), start=1):
        email = "provider@demo.example" if n == 1 else f"provider{n}@demo.example"
        demo.provider_users[provider] = user(email, spec[6], Role.PROVIDER, 20 + n, provider=provider)


def _restriction(demo: _Demo) -> None:
    """The regional cap on gatherings, in force since ten days before the anchor and not yet lifted."""
    start = demo.anchor - timedelta(days=10)
    demo.restriction = Restriction(
        scope=RestrictionScope.REGIONS, regions=[db.session.get(Region, demo.varmland_id)], in_force_from=start,
        lifted_on=None, max_group_size=8,
        description="Folkhälsomyndighetens regionala råd: högst 8 deltagare vid fysiska sammankomster i Värmland.",
        created_by_id=demo.pm.id, created_at=_at(start, time(10, 30)),
    )
    db.session.add(demo.restriction)


def _employees(demo: _Demo) -> None:
    rng = demo.rng
    genders, gender_weights = list(Gender), [30, 64, 2, 4]
    statuses, status_weights = list(EmploymentStatus), [80, 12, 8]
    for c, (company, spec) in enumerate(zip(demo.companies, COMPANIES)):
        count = rng.randint(15, 60)
        inactive = set(rng.sample(range(count), 2))  # people who have left since joining the programme
        seen: set[tuple[str, str]] = set()
        staff = []
        for i in range(count):
            gender = rng.choices(genders, gender_weights)[0]
            while True:
                first_names = WOMEN if gender == Gender.WOMAN else MEN if gender == Gender.MAN else WOMEN + MEN
                first, last = rng.choice(first_names), rng.choice(SURNAMES)
                if (first, last) not in seen:
                    seen.add((first, last))
                    break
            email = f"{_ascii(first)}.{_ascii(last)}@{spec[3]}.example" if rng.random() < 0.85 else None
            employee = Employee(
                company=company, first_name=first, last_name=last, email=email, job_role=rng.choice(JOB_ROLES),
                employment_status=rng.choices(statuses, status_weights)[0], gender=gender,
                birth_year=rng.randint(1960, 2003) if rng.random() < 0.92 else None,
                is_active=i not in inactive, created_at=_joined(demo, c) + timedelta(days=3, minutes=i),
            )
            staff.append(employee)
            db.session.add(employee)
        demo.employees[company] = staff


def _courses(demo: _Demo) -> None:
    for i, (p, title, areas, fmt, meetings, slot, level, language, certified, niche, text) in enumerate(COURSES):
        start, end = SLOTS[slot]
        minutes = meetings * (end.hour * 60 + end.minute - start.hour * 60 - start.minute)
        course = Course(
            provider=demo.providers[p], title=title, description=text, format=FORMATS[fmt], nominal_minutes=minutes,
            level=LEVELS[level], language=language, certified=certified, shared_niche=niche,
            competence_areas=[demo.areas[code] for code in areas.split()],
            created_at=_joined(demo, 40 + i) + timedelta(days=14),
        )
        demo.courses.append(course)
        demo.course_areas[course] = areas.split()
        db.session.add(course)


def _sessions(demo: _Demo) -> None:
    """Two or three sessions per course, past and future, each course's sessions weeks apart."""
    rng = demo.rng
    for i, (course, spec) in enumerate(zip(demo.courses, COURSES)):
        p, meeting_count, slot = spec[0], spec[4], spec[5]
        provider_spec = PROVIDERS[p]
        rooms = provider_spec[5]
        room = rooms[sum(1 for other in COURSES[:i] if other[0] == p) % len(rooms)]  # a room per course
        pattern = rng.choice([("past", "future"), ("past", "past", "future"), ("past", "future", "future")])
        # Steps of five weeks keep a course's sessions (and so its room) from overlapping.
        past = sorted(rng.sample(range(-68, -6, 5), pattern.count("past")))
        future = sorted(rng.sample(range(2, 40, 5), pattern.count("future")))
        for k, weeks in enumerate(past + future):
            is_past = weeks < 0
            # Full days run on consecutive working days, half days once a week.
            spacing = 1 if slot == "day" else 7
            day = _working_day(demo.anchor + timedelta(weeks=weeks, days=rng.randint(0, 1 if slot == "day" else 3)))
            days = [day]
            for _ in range(meeting_count - 1):
                days.append(_working_day(days[-1] + timedelta(days=spacing)))
            status = SessionStatus.COMPLETED if is_past else SessionStatus.OPEN
            if len(future) == 2 and weeks == future[1] and weeks >= 22:
                status = SessionStatus.PLANNED  # far ahead: published to plan for, not yet bookable
            first = _at(days[0], SLOTS[slot][0])
            created = max(first - timedelta(days=rng.randint(50, 80)), course.created_at + timedelta(days=1))
            if not is_past:
                created = min(created, demo.now - timedelta(days=rng.randint(20, 40)))
            deadline = first - timedelta(days=7)
            capped = course.shared_niche and rng.random() < 0.7
            session = Session(
                course=course, status=status, capacity=rng.randint(8, 24), min_participants=rng.randint(4, 6),
                company_seat_cap=rng.randint(2, 4) if capped else None,
                seat_cap_released_at=deadline - timedelta(days=3) if capped else None,
                booking_deadline=deadline, cancellation_deadline=first - timedelta(days=3),
                created_at=created, updated_at=created,
            )
            for n, day in enumerate(days):
                meeting = Meeting(starts_at=_at(day, SLOTS[slot][0]), ends_at=_at(day, SLOTS[slot][1]))
                if course.format != CourseFormat.DIGITAL:
                    meeting.venue = f"{provider_spec[4]}, {room}"
                    meeting.municipality = demo.places[provider_spec[2]]
                if course.format != CourseFormat.IN_PERSON:
                    meeting.online_url = f"https://meet.example.se/{provider_spec[3]}/{i + 1:02d}-{k + 1}-{n + 1}"
                session.meetings.append(meeting)
            if is_past:
                session.updated_at = _at(days[-1], time(18, 0))
            demo.sessions.append(session)
            db.session.add(session)
    # The restriction will have to postpone these: the first in-person Värmland sessions ahead, given room
    # enough that they are booked beyond its cap of eight.
    ahead = [s for s in demo.sessions if s.status == SessionStatus.OPEN and _in_varmland(demo, s)
             and s.course.format == CourseFormat.IN_PERSON]
    for session in sorted(ahead, key=lambda s: (s.meetings[0].starts_at, s.course.title)):
        if len(demo.postpone_targets) < 3 and all(t.course is not session.course for t in demo.postpone_targets):
            demo.postpone_targets.append(session)
    for session in demo.postpone_targets:
        session.capacity = max(session.capacity, 14)


def _in_varmland(demo: _Demo, session: Session) -> bool:
    return any(m.municipality is not None and m.municipality.region_id == demo.varmland_id for m in session.meetings)


def _plans(demo: _Demo) -> None:
    rng, programme = demo.rng, demo.programme
    quarters = []
    day = programme.period_start
    while day <= programme.period_end:
        quarters.append((day.year, (day.month - 1) // 3 + 1))
        day = _month_start(day, 3 - (day.month - 1) % 3)
    codes = sorted(demo.areas)
    for company in demo.companies:
        plan = TrainingPlan(
            company=company, title=f"Utbildningsplan {programme.period_start.year}–{programme.period_end.year}",
            period_start=programme.period_start, period_end=programme.period_end,
            created_at=demo.hr[company].created_at + timedelta(days=20),
        )
        active = [e for e in demo.employees[company] if e.is_active]
        for code in rng.sample(codes, rng.randint(4, 8)):
            courses = [c for c in demo.courses if code in demo.course_areas[c]]
            course = rng.choice(courses) if courses and rng.random() < 0.5 else None
            named = rng.sample(active, rng.randint(2, 5)) if rng.random() < 0.6 else []
            people = len(named) or rng.randint(2, 8)
            year, quarter = rng.choice(quarters)
            plan.items.append(PlanItem(
                competence_area=demo.areas[code], course=course, employees=named,
                head_count=None if named else people,
                planned_minutes=(course.nominal_minutes if course else rng.choice([4, 8, 16, 24]) * 60) * people,
                target_year=year, target_quarter=quarter, priority=rng.choice(list(Priority)),
                note=AREA_NOTES[code],
            ))
        demo.plan_items[company] = plan.items
        db.session.add(plan)


def _plan_item_for(demo: _Demo, employee: Employee, course: Course) -> PlanItem | None:
    """The plan need a booking serves: one naming the employee, else a head-count need of the same area
    with a place left. As HR books: a need for three people is met by three people, each once, so no
    item shows more people's hours done than it plans for."""
    areas = demo.course_areas[course]
    items = [it for it in demo.plan_items[employee.company] if it.competence_area.code in areas]
    for item in items:
        if employee in item.employees and _take_place(demo, item, employee):
            return item
    open_items = [it for it in items if not it.employees]
    if not open_items or demo.rng.random() >= 0.8:
        return None
    return next((item for item in open_items if _take_place(demo, item, employee)), None)


def _take_place(demo: _Demo, item: PlanItem, employee: Employee) -> bool:
    holders = demo.plan_places.setdefault(item, set())
    if employee in holders or len(holders) >= (len(item.employees) or item.head_count or 0):
        return False
    holders.add(employee)
    return True


def _overlaps(spans: list[tuple[datetime, datetime]], session: Session) -> bool:
    return any(s < m.ends_at and m.starts_at < e for s, e in spans for m in session.meetings)


def _bookings(demo: _Demo) -> None:
    """Seats filled as HR would have booked them: within capacity and seat caps, and without clashes."""
    rng = demo.rng
    spans: dict[Employee, list[tuple[datetime, datetime]]] = {}
    first_company = demo.companies[0]
    for session in demo.sessions:
        if session.status == SessionStatus.PLANNED:
            continue
        is_past = session.status == SessionStatus.COMPLETED
        course = session.course
        region_id = course.provider.municipality.region_id
        # In-person seats go to the region's companies; the first company (the demo HR's) travels anywhere.
        companies = [c for c in demo.companies if course.format == CourseFormat.DIGITAL
                     or c.municipality.region_id == region_id or c is first_company]
        pool = [e for c in companies for e in demo.employees[c] if is_past or e.is_active]
        named = {e: None for c in companies for it in demo.plan_items[c]
                 if it.competence_area.code in demo.course_areas[course] for e in it.employees}
        planned = [e for e in pool if e in named]
        others = [e for e in pool if e not in named]
        rng.shuffle(planned)
        rng.shuffle(others)
        candidates = planned + others  # people the plan names for this area are booked first
        if session in demo.postpone_targets:
            ours = [e for e in candidates if e.company is first_company][:2]
            candidates = ours + [e for e in candidates if e not in ours]

        limit = session.capacity
        if not is_past and _in_varmland(demo, session) and session not in demo.postpone_targets:
            limit = min(limit, 8)  # already within the restriction, so it stays open
        if session in demo.postpone_targets:
            wanted = rng.randint(10, session.capacity)
        elif is_past:
            wanted = rng.randint(max(session.min_participants, limit // 2), limit)
        else:
            wanted = limit if rng.random() < 0.25 else rng.randint(2, limit - 1)
        per_company = session.company_seat_cap or max(4, math.ceil(limit / 2))

        booked, waitlisted, cancelled, held = [], [], [], {}
        for employee in candidates:
            if len(booked) >= wanted:
                break
            travelling = course.format != CourseFormat.DIGITAL and employee.company.municipality.region_id != region_id
            most = min(2, per_company) if travelling else per_company  # the first company sends a few, not a crowd
            if held.get(employee.company, 0) >= most or _overlaps(spans.get(employee, []), session):
                continue
            booked.append(employee)
            held[employee.company] = held.get(employee.company, 0) + 1
        rest = [e for e in candidates if e not in booked]
        if not is_past and len(booked) == session.capacity:
            # A full session: the latest requests wait in line.
            waitlisted = [e for e in rest if not _overlaps(spans.get(e, []), session)][: rng.randint(1, 3)]
        elif rest and rng.random() < 0.35:
            cancelled = rest[-rng.randint(1, 2):]
        for employee in booked:
            spans.setdefault(employee, []).extend((m.starts_at, m.ends_at) for m in session.meetings)

        entries = [(BookingStatus.BOOKED, e) for e in booked] + [(BookingStatus.CANCELLED, e) for e in cancelled]
        rng.shuffle(entries)
        entries += [(BookingStatus.WAITLISTED, e) for e in waitlisted]
        closes = min(session.booking_deadline, demo.now)
        times = sorted(_office_hours(rng, session.created_at, closes) for _ in entries)
        for requested, (status, employee) in zip(times, entries):
            hr = demo.hr[employee.company]
            booking = Booking(
                session=session, employee=employee, company=employee.company, status=status,
                requested_at=requested, booked_by_id=hr.id,
                plan_item=_plan_item_for(demo, employee, course) if status != BookingStatus.CANCELLED else None,
            )
            if status == BookingStatus.CANCELLED:
                booking.cancelled_at = _office_hours(rng, requested, closes)
                booking.cancelled_by_id = hr.id
            demo.bookings.append(booking)
            db.session.add(booking)


def _attendance_and_hours(demo: _Demo) -> None:
    """Completed sessions: the provider took attendance, and each attended meeting yielded its hours."""
    rng = demo.rng
    for booking in demo.bookings:
        session = booking.session
        if session.status != SessionStatus.COMPLETED or booking.status != BookingStatus.BOOKED:
            continue
        recorder = demo.provider_users[session.course.provider]
        for meeting in session.meetings:
            recorded = meeting.ends_at + timedelta(minutes=rng.randint(5, 120))
            attended = rng.random() < 0.9
            attendance = Attendance(
                booking=booking, meeting=meeting, recorded_by_id=recorder.id, recorded_at=recorded,
                status=AttendanceStatus.ATTENDED if attended else AttendanceStatus.ABSENT,
            )
            db.session.add(attendance)
            if attended:
                # The provider's attendance record is the verification of these hours.
                # The meeting's place decides the format; not yet flushed, it has its municipality but no id.
                db.session.add(HoursEntry(
                    employee=booking.employee, company=booking.company,
                    entry_date=meeting.starts_at.astimezone(STOCKHOLM).date(),
                    minutes=meeting.minutes, source=HoursSource.ATTENDANCE, attendance=attendance,
                    session=session, course=session.course, verification=Verification.VERIFIED, verified_by_id=recorder.id,
                    delivery=Delivery.IN_PERSON if meeting.municipality is not None else Delivery.DIGITAL,
                    verified_at=recorded, created_by_id=recorder.id, created_at=recorded,
                ))


def _manual_hours(demo: _Demo) -> None:
    """Self-paced and internal training that HR logged; the programme office has verified most of it."""
    rng, pm = demo.rng, demo.pm
    span = (demo.anchor - demo.programme.period_start).days - 30
    rejected = {demo.companies[c]: (text, reason) for c, text, reason in REJECTED_TRAINING}
    for company in demo.companies:
        hr = demo.hr[company]
        active = [e for e in demo.employees[company] if e.is_active]
        logged = [(rng.choice(MANUAL_TRAINING), "") for _ in range(rng.randint(4, 10))]
        if company in rejected:
            logged.append(rejected[company])
        for text, reason in logged:
            days_back = rng.randint(30 if reason else 3, span)  # a decision is never dated after today
            day = demo.anchor - timedelta(days=days_back)
            day -= timedelta(days=max(0, day.weekday() - 4))  # weekend work is logged on the Friday
            entry = HoursEntry(
                employee=rng.choice(active), company=company, entry_date=day, minutes=rng.choice([60, 90, 120, 180, 240, 360, 480]),
                source=HoursSource.MANUAL, description=text, created_by_id=hr.id, created_at=_at(day, time(15, 30)),
                delivery=Delivery.DIGITAL,
                verification=Verification.PENDING,
            )
            if reason or (days_back > 21 and rng.random() < 0.85):
                entry.verification = Verification.REJECTED if reason else Verification.VERIFIED
                entry.rejection_reason = reason
                entry.verified_by_id = pm.id
                entry.verified_at = _at(day + timedelta(days=rng.randint(2, 14)), time(10, 0))
            if reason:
                db.session.add(Notification(user=hr, kind="hours_rejected", title="Timmar avvisade",
                                            body=f"”{text}” godkändes inte: {reason}", created_at=entry.verified_at,
                                            read_at=entry.verified_at + timedelta(hours=3)))
            db.session.add(entry)


def _postpone(demo: _Demo) -> None:
    """Sessions booked beyond the restriction's cap wait for it to lift, bookings and meetings kept."""
    restriction = demo.restriction
    for session in demo.postpone_targets:
        booked = sum(1 for b in demo.bookings if b.session is session and b.status == BookingStatus.BOOKED)
        if booked > restriction.max_group_size:
            session.status = SessionStatus.POSTPONED
            session.postponed_by_id = restriction.id
            session.postponed_at = restriction.created_at
            session.note = "Uppskjutet: högst 8 deltagare vid fysiska sammankomster i Värmland."
            session.updated_at = restriction.created_at


def _audit_and_notifications(demo: _Demo) -> None:
    for booking in demo.bookings:
        provider_id = booking.session.course.provider_id
        first_status = BookingStatus.WAITLISTED if booking.status == BookingStatus.WAITLISTED else BookingStatus.BOOKED
        db.session.add(AuditEvent(
            actor_id=booking.booked_by_id, action="booking.created", object_type="booking", object_id=booking.id,
            company_id=booking.company_id, provider_id=provider_id, data={"to": first_status.value},
            created_at=booking.requested_at,
        ))
        if booking.status == BookingStatus.CANCELLED:
            db.session.add(AuditEvent(
                actor_id=booking.cancelled_by_id, action="booking.cancelled", object_type="booking",
                object_id=booking.id, company_id=booking.company_id, provider_id=provider_id,
                data={"from": "booked", "to": "cancelled"}, created_at=booking.cancelled_at,
            ))

    restriction = demo.restriction
    told = restriction.created_at + timedelta(minutes=5)

    def notify(user: User, kind: str, title: str, body: str, read: bool = False, at: datetime = told) -> None:
        db.session.add(Notification(user=user, kind=kind, title=title, body=body, created_at=at,
                                    read_at=at + timedelta(hours=20) if read else None))

    for session in demo.postpone_targets:
        if session.status != SessionStatus.POSTPONED:
            continue
        course, provider = session.course, session.course.provider
        when = session.meetings[0].starts_at.astimezone(STOCKHOLM).strftime("%Y-%m-%d")
        db.session.add(AuditEvent(
            actor_id=None, action="session.postponed", object_type="session", object_id=session.id,
            provider_id=provider.id, data={"restriction_id": restriction.id}, created_at=told,
        ))
        notify(demo.provider_users[provider], "session_postponed", f"Kurstillfälle skjuts upp: {course.title}",
               f"Tillfället som startar {when} skjuts upp enligt restriktionen om högst 8 deltagare i Värmland. "
               "Bokningarna ligger kvar; nya datum föreslås när restriktionen hävs.", read=True)
        per_company: dict[Company, int] = {}
        for booking in demo.bookings:
            if booking.session is session and booking.status == BookingStatus.BOOKED:
                per_company[booking.company] = per_company.get(booking.company, 0) + 1
        for company, count in per_company.items():
            notify(demo.hr[company], "session_postponed", f"Kurstillfälle skjuts upp: {course.title}",
                   f"{count} av era medarbetare är bokade på tillfället som startar {when}. Det skjuts upp enligt "
                   "restriktionen om högst 8 deltagare i Värmland. Bokningarna ligger kvar och ni får nya datum "
                   "när restriktionen hävs.")

    pending = db.session.scalar(select(func.count()).where(HoursEntry.verification == Verification.PENDING))
    notify(demo.pm, "hours_pending", "Timmar väntar på verifiering",
           f"{pending} manuellt registrerade timposter väntar på att programkontoret verifierar dem.",
           at=_at(demo.anchor - timedelta(days=3), time(16, 0)))  # the Friday before, after the last entry
    notify(demo.provider_users[demo.providers[0]], "demand_pooled", "Samlad efterfrågan: industrirobotar",
           "Flera företag i Västmanland har behov av robotutbildning i sina utbildningsplaner. "
           "Ett gemensamt nischtillfälle kan vara aktuellt.")
