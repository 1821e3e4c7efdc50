"""Reference data every programme needs: Sweden's regions and municipalities, competence areas."""
import csv
from pathlib import Path

from sqlalchemy import select

from portal.extensions import db
from portal.models import CompetenceArea, Municipality, Region

DATA = Path(__file__).resolve().parent.parent / "data"

COMPETENCE_AREAS = [
    ("cnc", "CNC-bearbetning", "CNC machining"),
    ("automation", "Automation och PLC", "Automation and PLC"),
    ("welding", "Svetsning", "Welding"),
    ("additive", "Additiv tillverkning", "Additive manufacturing"),
    ("lean", "Lean produktion", "Lean production"),
    ("quality", "Kvalitet", "Quality"),
    ("leadership", "Ledarskap", "Leadership"),
    ("digital", "Digitala verktyg", "Digital tools"),
    ("safety", "Säkerhet och arbetsmiljö", "Safety and work environment"),
    ("maintenance", "Underhåll", "Maintenance"),
    ("robotics", "Industrirobotar", "Industrial robots"),
    ("electrical", "El och elsäkerhet", "Electrical work and safety"),
]


def load_reference_data() -> None:
    """Add whatever reference rows are missing; running it twice changes nothing."""
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    known_municipalities = set(db.session.scalars(select(Municipality.code)))
    with open(DATA / "municipalities.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            region = regions.get(row["region_code"])
            if region is None:
                region = regions[row["region_code"]] = Region(code=row["region_code"], name=row["region_name"])
                db.session.add(region)
            if row["code"] not in known_municipalities:
                db.session.add(Municipality(code=row["code"], name=row["name"], region=region))
    known_areas = set(db.session.scalars(select(CompetenceArea.code)))
    for code, name_sv, name_en in COMPETENCE_AREAS:
        if code not in known_areas:
            db.session.add(CompetenceArea(code=code, name_sv=name_sv, name_en=name_en))
    db.session.flush()
