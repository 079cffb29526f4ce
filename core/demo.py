"""Demo data for Kota Kupang: real OPD names, fictional officers, a few hundred surveys."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from core.masterdata.models import Officer, Service, Unit
from core.masterdata.service import new_public_code
from core.people.models import Role
from core.people.users import create_user
from core.shared.clock import local_date, utcnow
from core.shared.errors import Conflict
from core.surveys.models import SurveyResponse, answer_columns

DEMO_UNITS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("dukcapil", "Dinas Kependudukan dan Pencatatan Sipil",
     ("KTP-el", "Kartu Keluarga", "Akta Kelahiran", "Akta Kematian", "Pindah Datang")),
    ("dinkes", "Dinas Kesehatan", ("Layanan Puskesmas", "Surat Keterangan Sehat")),
    ("dikbud", "Dinas Pendidikan dan Kebudayaan", ("Legalisir Ijazah", "Mutasi Siswa")),
    ("dpmptsp", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
     ("NIB", "PBG", "Izin Usaha")),
    ("rsud-sk-lerik", "RSUD S.K. Lerik", ("Rawat Jalan", "IGD", "Rawat Inap")),
    ("bapenda", "Badan Pendapatan Daerah", ("PBB-P2", "BPHTB")),
    ("dinsos", "Dinas Sosial", ("DTKS", "Bantuan Sosial")),
    ("satpolpp", "Satuan Polisi Pamong Praja", ("Pengaduan Ketertiban",)),
    ("dlhk", "Dinas Lingkungan Hidup dan Kebersihan", ("Angkutan Sampah",)),
    ("kec-alak", "Kecamatan Alak", ("Surat Keterangan", "Legalisasi")),
    ("kec-maulafa", "Kecamatan Maulafa", ("Surat Keterangan", "Legalisasi")),
    ("kec-oebobo", "Kecamatan Oebobo", ("Surat Keterangan", "Legalisasi")),
    ("kec-kelapa-lima", "Kecamatan Kelapa Lima", ("Surat Keterangan", "Legalisasi")),
    ("kec-kota-raja", "Kecamatan Kota Raja", ("Surat Keterangan", "Legalisasi")),
    ("kec-kota-lama", "Kecamatan Kota Lama", ("Surat Keterangan", "Legalisasi")),
)  # fmt: skip

GIVEN_NAMES = (
    "Yohanes",
    "Maria",
    "Agustinus",
    "Fransiska",
    "Yosef",
    "Theresia",
    "Petrus",
    "Elisabeth",
    "Markus",
    "Veronika",
    "Stefanus",
    "Katarina",
    "Daniel",
    "Ruth",
)
FAMILY_NAMES = ("Ndun", "Bria", "Tefa", "Nenobais", "Manafe", "Lado", "Seran", "Taolin",
                "Bessie", "Kase", "Nalle", "Fanggidae", "Mooy", "Riwu")  # fmt: skip
POSITIONS = ("Pengadministrasi Umum", "Analis Kependudukan", "Verifikator", "Petugas Loket",
             "Pranata Komputer", "Kepala Seksi Pelayanan")  # fmt: skip


@dataclass(frozen=True)
class DemoResult:
    units: int
    services: int
    officers: int
    surveys: int
    admin_username: str
    admin_password: str


def database_is_empty(session: Session) -> bool:
    return session.exec(select(Unit.id).limit(1)).first() is None


def _demo_nip(rng: random.Random, sex: int, seq: int) -> str:
    born = date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 28))
    appointed_year = born.year + rng.randrange(20, 28)
    return f"{born:%Y%m%d}{appointed_year:04d}{rng.randrange(1, 13):02d}{sex}{seq:03d}"


def seed_demo(
    session: Session, tz: ZoneInfo, *, seed: int = 2026, surveys: int = 400
) -> DemoResult:
    """Fill an empty database. Refuses to touch a database that already has data."""
    if not database_is_empty(session):
        raise Conflict("the database already has data; demo data goes only into an empty one")
    rng = random.Random(seed)  # noqa: S311 (demo data, not security)
    unit_rows: list[tuple[Unit, list[Service], list[Officer]]] = []
    officer_count = 0
    for code, name, service_names in DEMO_UNITS:
        unit = Unit(code=code, name=name, service_population=rng.choice((300, 800, 2500, 6000)))
        session.add(unit)
        session.flush()
        assert unit.id is not None
        services = [Service(unit_id=unit.id, name=s) for s in service_names]
        session.add_all(services)
        officers = []
        for _ in range(rng.randrange(2, 5)):
            officer_count += 1
            sex = rng.choice((1, 2))
            officers.append(
                Officer(
                    nip=_demo_nip(rng, sex, officer_count),
                    name=f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}",
                    position=rng.choice(POSITIONS),
                    unit_id=unit.id,
                    public_code=new_public_code(),
                )
            )
        session.add_all(officers)
        session.flush()
        unit_rows.append((unit, services, officers))

    now = utcnow()
    for _ in range(surveys):
        unit, services, officers = rng.choice(unit_rows)
        assert unit.id is not None
        quality = 2.2 + (sum(map(ord, unit.code)) % 17) / 10  # each unit its own level
        answers = [max(1, min(4, round(rng.gauss(quality, 0.7)))) for _ in range(9)]
        moment = now - timedelta(minutes=rng.randrange(10, 12 * 7 * 24 * 60))
        service = rng.choice(services) if rng.random() < 0.8 else None
        officer = rng.choice(officers) if rng.random() < 0.5 else None
        session.add(
            SurveyResponse(
                unit_id=unit.id,
                service_id=service.id if service else None,
                officer_id=officer.id if officer else None,
                **answer_columns(answers),
                channel="demo",
                local_date=local_date(moment, tz),
                created_at=moment,
            )
        )
    password = secrets.token_urlsafe(12)
    create_user(session, "admin", Role.admin, password)
    session.flush()
    return DemoResult(
        units=len(unit_rows),
        services=sum(len(s) for _, s, _ in unit_rows),
        officers=officer_count,
        surveys=surveys,
        admin_username="admin",
        admin_password=password,
    )
