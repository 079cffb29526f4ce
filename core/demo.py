"""Demo data for Kota Kupang: real OPD names, fictional officers, a few hundred surveys, and
about forty complaints in every state of their lifecycle, made by core's own lifecycle
functions at moments in the past (so their timelines and deadlines are real), with a
supervisor and a unit head to handle them."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select, update

from core.access import Actor, actor_for
from core.cases.filing import file_complaint
from core.cases.intake import CitizenContact, record_complaint
from core.cases.lifecycle import (
    add_note,
    assign,
    citizen_rate,
    citizen_reply,
    close,
    reject,
    request_info,
    resolve,
    verify,
)
from core.cases.models import Case, CaseOutcome, CaseStatus, Privacy
from core.cases.policy import CasePolicy, ComplaintDraft
from core.cases.sla import SlaPolicy
from core.demo_purge import has_listed_demo, mark_demo
from core.masterdata.models import Officer, Service, Unit
from core.masterdata.service import new_public_code
from core.outbox.models import OutboundMessage, OutboxStatus
from core.people.models import AppUser, Channel, Citizen, Contact, Intake, Role
from core.people.users import create_user
from core.shared.clock import local_date, utcnow
from core.shared.errors import Conflict
from core.surveys.models import SurveyResponse, answer_columns
from core.surveys.submission import PROFILE_CHOICES

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

# Given names with the sex they are borne by (1 man, 2 woman: digit 15 of a NIP).
GIVEN_NAMES: tuple[tuple[str, int], ...] = (
    ("Yohanes", 1),
    ("Maria", 2),
    ("Agustinus", 1),
    ("Fransiska", 2),
    ("Yosef", 1),
    ("Theresia", 2),
    ("Petrus", 1),
    ("Elisabeth", 2),
    ("Markus", 1),
    ("Veronika", 2),
    ("Stefanus", 1),
    ("Katarina", 2),
    ("Daniel", 1),
    ("Ruth", 2),
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
    supervisor_username: str = ""
    supervisor_password: str = ""
    supervisor_units: tuple[str, ...] = ()
    head_username: str = ""
    head_password: str = ""
    head_units: tuple[str, ...] = ()
    officer_username: str = ""
    officer_password: str = ""
    officer_name: str = ""
    cases: int = 0


# Demo citizens' Telegram chats: ids past Telegram's 52-bit user ids, so that no real
# person who writes to a demo installation's bot can ever be one of them.
DEMO_CHAT = 9_000_000_000_000_000


DEMO_USERNAMES = ("admin", "pengawas", "kadis", "petugas")
# Everything seed_demo makes is made within this long of its first unit.
SEED_SPAN = timedelta(minutes=2)


def mark_earlier_demo(session: Session) -> int:
    """For demo data seeded before `demo_record` existed (migration 0019): find its rows and
    list them, so that `demo purge` can remove them. The demo seeded an empty database, so
    its rows are the demo units (by code) made at the seeding, the services, officers and
    demo accounts made with them, and the complaints in those units dated before it (the
    demo's are back-dated; every real one came later). Returns how many rows it listed;
    0 when the demo rows are listed already or there is no demo."""
    if has_listed_demo(session):
        return 0
    demo_answers = session.exec(
        select(SurveyResponse.id).where(SurveyResponse.channel == "demo").limit(1)
    ).first()
    if demo_answers is None:
        return 0
    codes = [code for code, _, _ in DEMO_UNITS]
    units = session.exec(select(Unit).where(col(Unit.code).in_(codes))).all()
    if not units:
        return 0
    seeded = min(u.created_at for u in units)
    until = seeded + SEED_SPAN
    unit_ids = [u.id for u in units if u.created_at <= until]
    services = session.exec(
        select(Service.id).where(col(Service.unit_id).in_(unit_ids), Service.created_at <= until)
    ).all()
    officers = session.exec(
        select(Officer.id).where(col(Officer.unit_id).in_(unit_ids), Officer.created_at <= until)
    ).all()
    users = session.exec(
        select(AppUser.id).where(
            col(AppUser.username).in_(DEMO_USERNAMES), AppUser.created_at <= until
        )
    ).all()
    cases = session.exec(
        select(Case.id, Case.citizen_id).where(
            col(Case.unit_id).in_(unit_ids), Case.received_at <= seeded
        )
    ).all()
    marks = (
        ("unit", unit_ids),
        ("service", list(services)),
        ("officer", list(officers)),
        ("app_user", list(users)),
        ("cases", [case_id for case_id, _ in cases]),
        ("citizen", [citizen_id for _, citizen_id in cases]),
    )
    for kind, ids in marks:
        mark_demo(session, kind, ids)
    return sum(len(ids) for _, ids in marks)


def database_is_empty(session: Session) -> bool:
    return session.exec(select(Unit.id).limit(1)).first() is None


def _demo_nip(rng: random.Random, sex: int, seq: int) -> str:
    born = date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 28))
    appointed_year = born.year + rng.randrange(20, 28)
    return f"{born:%Y%m%d}{appointed_year:04d}{rng.randrange(1, 13):02d}{sex}{seq:03d}"


def seed_demo(
    session: Session,
    tz: ZoneInfo,
    *,
    seed: int = 2026,
    surveys: int = 1300,
    policy: CasePolicy | None = None,
    now: datetime | None = None,
) -> DemoResult:
    """Fill an empty database. Refuses to touch a database that already has data.

    `policy` is the process's case policy (its SLA makes the demo cases' deadlines); by
    default the standard one in `tz`."""
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
            given, sex = rng.choice(GIVEN_NAMES)  # the NIP's sex digit is the name's
            officers.append(
                Officer(
                    nip=_demo_nip(rng, sex, officer_count),
                    name=f"{given} {rng.choice(FAMILY_NAMES)}",
                    position=rng.choice(POSITIONS),
                    unit_id=unit.id,
                    public_code=new_public_code(),
                )
            )
        session.add_all(officers)
        session.flush()
        unit_rows.append((unit, services, officers))

    now = now or utcnow()
    # The supervisor's busy units hear about 15 citizens a week (a weekly IKM to show); the
    # others about 3 (their weekly figure is "belum cukup data", their monthly one is not).
    weights = [9 if u.code in SUPERVISOR_UNITS else 2 for u, _, _ in unit_rows]
    for _ in range(surveys):
        unit, services, officers = rng.choices(unit_rows, weights)[0]
        assert unit.id is not None
        quality = 2.2 + (sum(map(ord, unit.code)) % 17) / 10  # each unit its own level
        answers = [max(1, min(4, round(rng.gauss(quality, 0.7)))) for _ in range(9)]
        moment = now - timedelta(minutes=rng.randrange(10, 12 * 7 * 24 * 60))
        service = rng.choice(services) if rng.random() < 0.8 else None
        officer = rng.choice(officers) if rng.random() < 0.5 else None
        # Most citizens tell who they are (the SKM profile); some leave a comment.
        told = rng.random() < 0.7
        profile = {f: rng.choice(values) if told else None for f, values in PROFILE_CHOICES.items()}
        mood = GOOD_COMMENTS if sum(answers) >= 27 else POOR_COMMENTS
        comment = rng.choice(mood) if rng.random() < 0.25 else None
        session.add(
            SurveyResponse(
                unit_id=unit.id,
                service_id=service.id if service else None,
                officer_id=officer.id if officer else None,
                comment=comment,
                sex=profile["sex"],
                age_band=profile["age_band"],
                education=profile["education"],
                occupation=profile["occupation"],
                **answer_columns(answers),
                channel="demo",
                local_date=local_date(moment, tz),
                created_at=moment,
            )
        )
    password = secrets.token_urlsafe(12)
    admin_user = create_user(session, "admin", Role.admin, password, display_name="Administrator")
    supervisor_password = secrets.token_urlsafe(12)
    supervisor_user = create_user(
        session,
        SUPERVISOR,
        Role.supervisor,
        supervisor_password,
        SUPERVISOR_UNITS,
        display_name="Theresia Manafe",
    )
    head_password = secrets.token_urlsafe(12)
    head_user = create_user(
        session, HEAD, Role.unit_head, head_password, HEAD_UNITS, display_name="Petrus Seran"
    )
    session.flush()
    by_code = {unit.code: (unit, services, officers) for unit, services, officers in unit_rows}
    # A front-line officer of Dukcapil with an account of their own evaluation evidence.
    own_officer = by_code[OFFICER_UNIT][2][0]
    officer_password = secrets.token_urlsafe(12)
    officer_user = create_user(
        session, OFFICER, Role.officer, officer_password, display_name=own_officer.name
    )
    officer_user.officer_id = own_officer.id
    session.add(officer_user)
    session.flush()
    case_count = _demo_cases(
        session,
        rng,
        policy or CasePolicy(sla=SlaPolicy(tz=tz)),
        by_code,
        now=now,
    )
    users = (admin_user, supervisor_user, head_user, officer_user)
    _mark_demo_rows(session, unit_rows, [u.id for u in users])
    return DemoResult(
        units=len(unit_rows),
        services=sum(len(s) for _, s, _ in unit_rows),
        officers=officer_count,
        surveys=surveys,
        admin_username="admin",
        admin_password=password,
        supervisor_username=SUPERVISOR,
        supervisor_password=supervisor_password,
        supervisor_units=SUPERVISOR_UNITS,
        head_username=HEAD,
        head_password=head_password,
        head_units=HEAD_UNITS,
        officer_username=OFFICER,
        officer_password=officer_password,
        officer_name=own_officer.name,
        cases=case_count,
    )


def _mark_demo_rows(
    session: Session,
    unit_rows: list[tuple[Unit, list[Service], list[Officer]]],
    user_ids: list[int | None],
) -> None:
    """List what the demo made (`demo_record`), so that `demo purge` removes exactly that.
    The database had no unit before, so every complaint (and its complainant) there is now
    is the demo's."""
    mark_demo(session, "unit", (u.id for u, _, _ in unit_rows))
    mark_demo(session, "service", (s.id for _, services, _ in unit_rows for s in services))
    mark_demo(session, "officer", (o.id for _, _, officers in unit_rows for o in officers))
    mark_demo(session, "app_user", user_ids)
    cases = session.exec(select(Case.id, Case.citizen_id)).all()
    mark_demo(session, "cases", (case_id for case_id, _ in cases))
    mark_demo(session, "citizen", (citizen_id for _, citizen_id in cases))


# Demo complaints ------------------------------------------------------------------------------

# What citizens write in the survey's comment, by how they answered.
GOOD_COMMENTS = (
    "Pelayanan cepat dan petugas ramah.",
    "Terima kasih, berkas saya selesai hari ini juga.",
    "Petugas sabar menjelaskan persyaratan.",
    "Ruang tunggu bersih dan antrean tertib.",
)
POOR_COMMENTS = (
    "Antrean terlalu lama, loket yang buka hanya satu.",
    "Persyaratan di papan pengumuman berbeda dengan yang diminta petugas.",
    "Tolong tambah kursi di ruang tunggu.",
    "Jam buka tidak sesuai dengan yang tertulis.",
    "Informasi biaya kurang jelas.",
)

SUPERVISOR = "pengawas"
SUPERVISOR_UNITS = ("dukcapil", "dinkes", "dpmptsp", "rsud-sk-lerik", "kec-oebobo")
HEAD = "kadis"
HEAD_UNITS = ("dukcapil",)
OFFICER = "petugas"
OFFICER_UNIT = "dukcapil"

# (category, what the citizen wrote)
COMPLAINTS: tuple[tuple[str, str], ...] = (
    ("penundaan_berlarut", "Sudah tiga minggu KTP-el saya belum jadi, padahal dijanjikan "
     "selesai dalam tujuh hari. Setiap datang hanya disuruh kembali minggu depan."),
    ("pungli", "Petugas loket meminta uang Rp50.000 supaya berkas Kartu Keluarga saya "
     "diproses lebih cepat. Tidak ada kuitansi resmi."),
    ("tidak_patut", "Petugas berbicara kasar dan membentak ibu-ibu lansia yang bertanya "
     "di ruang tunggu."),
    ("penyimpangan_prosedur", "Saya diminta surat pengantar RT/RW yang tidak tercantum "
     "dalam daftar persyaratan di papan pengumuman."),
    ("tidak_memberikan_pelayanan", "Loket tutup pukul 11.00 padahal jam layanan tertulis "
     "sampai 15.00. Banyak warga pulang tanpa dilayani."),
    ("tidak_kompeten", "Data di akta kelahiran anak saya salah ketik dua kali, dan saya "
     "harus mengurus perbaikan dari awal lagi."),
    ("penundaan_berlarut", "Antrean nomor 40 baru dipanggil setelah empat jam menunggu, "
     "sementara beberapa orang datang belakangan langsung masuk."),
    ("diskriminasi", "Warga yang datang dengan kenalan petugas dilayani lebih dulu, "
     "kami yang antre sejak pagi dibiarkan."),
    ("lainnya", "Ruang tunggu sangat panas, kipas angin rusak dan tidak ada air minum "
     "untuk warga yang menunggu berjam-jam."),
    ("penyalahgunaan_wewenang", "Petugas menahan dokumen asli saya dan baru mau "
     "mengembalikan kalau saya membeli map dari kios di depan kantor."),
    ("pungli", "Untuk legalisir ijazah diminta bayar Rp10.000 per lembar tanpa dasar "
     "aturan yang ditunjukkan."),
    ("tidak_memberikan_pelayanan", "Nomor WhatsApp layanan yang tertera di spanduk tidak "
     "pernah menjawab sejak dua minggu."),
    ("keberpihakan", "Permohonan izin usaha tetangga saya yang lebih baru sudah terbit, "
     "milik saya yang masuk lebih dulu belum diproses."),
    ("tidak_kompeten", "Petugas tidak tahu cara memakai aplikasi antrean sehingga nomor "
     "antrean dibagikan ulang secara manual."),
    ("penyimpangan_prosedur", "Hasil pemeriksaan di puskesmas diberikan tanpa tanda tangan "
     "dokter dan ditolak oleh kantor tempat saya melamar."),
    ("lainnya", "Sampah di depan pasar tidak diangkut sejak lima hari dan baunya sampai "
     "ke rumah warga."),
)  # fmt: skip

# (final status, age in days, unit, privacy, where it came in, how it ends)
Scenario = tuple[CaseStatus, float, str, Privacy, Intake, str]
S, P, In = CaseStatus, Privacy, Intake
SCENARIOS: tuple[Scenario, ...] = (
    (S.received, 0.1, "dukcapil", P.biasa, In.telegram, ""),
    (S.received, 0.3, "dinkes", P.biasa, In.telegram, ""),
    (S.received, 0.8, "rsud-sk-lerik", P.anonim, In.telegram, ""),
    (S.received, 1.5, "dpmptsp", P.biasa, In.phone, "lapor"),
    (S.received, 2.0, "kec-oebobo", P.biasa, In.counter, ""),
    (S.received, 8.0, "dukcapil", P.biasa, In.telegram, ""),  # overdue
    (S.received, 10.0, "dinkes", P.rahasia, In.telegram, ""),  # overdue
    (S.received, 9.0, "bapenda", P.biasa, In.letter, ""),  # overdue
    (S.verified, 2.0, "dukcapil", P.biasa, In.telegram, ""),
    (S.verified, 3.0, "rsud-sk-lerik", P.biasa, In.telegram, ""),
    (S.verified, 4.0, "dpmptsp", P.biasa, In.letter, ""),
    (S.verified, 12.0, "dinkes", P.biasa, In.telegram, "late"),  # overdue
    (S.verified, 14.0, "kec-oebobo", P.biasa, In.telegram, "late"),  # overdue
    (S.in_progress, 5.0, "dukcapil", P.biasa, In.telegram, "note"),
    (S.in_progress, 7.0, "dukcapil", P.rahasia, In.telegram, ""),
    (S.in_progress, 9.0, "rsud-sk-lerik", P.biasa, In.phone, ""),
    (S.in_progress, 15.0, "dinkes", P.biasa, In.telegram, "replied"),
    (S.in_progress, 20.0, "dpmptsp", P.anonim, In.telegram, ""),
    (S.in_progress, 25.0, "kec-oebobo", P.biasa, In.telegram, "note"),
    (S.in_progress, 30.0, "dinsos", P.biasa, In.telegram, ""),
    (S.in_progress, 85.0, "dukcapil", P.biasa, In.telegram, "replied"),  # overdue
    (S.in_progress, 75.0, "rsud-sk-lerik", P.biasa, In.counter, ""),  # overdue
    (S.waiting_citizen, 6.0, "dukcapil", P.biasa, In.telegram, ""),
    (S.waiting_citizen, 10.0, "dinkes", P.biasa, In.telegram, ""),
    (S.waiting_citizen, 18.0, "rsud-sk-lerik", P.anonim, In.telegram, ""),
    (S.waiting_citizen, 22.0, "kec-alak", P.biasa, In.telegram, ""),
    (S.resolved, 8.0, "dukcapil", P.biasa, In.telegram, ""),
    (S.resolved, 12.0, "dinkes", P.biasa, In.telegram, "replied"),
    (S.resolved, 16.0, "dpmptsp", P.biasa, In.phone, "lapor"),
    (S.resolved, 20.0, "rsud-sk-lerik", P.rahasia, In.telegram, ""),
    (S.resolved, 25.0, "bapenda", P.biasa, In.telegram, ""),
    (S.closed, 30.0, "dukcapil", P.biasa, In.telegram, "satisfied"),
    (S.closed, 40.0, "dinkes", P.biasa, In.telegram, ""),
    (S.closed, 45.0, "rsud-sk-lerik", P.biasa, In.telegram, "satisfied"),
    (S.closed, 50.0, "kec-oebobo", P.biasa, In.letter, ""),
    (S.closed, 60.0, "dpmptsp", P.biasa, In.telegram, "satisfied"),
    (S.closed, 90.0, "dinsos", P.biasa, In.telegram, ""),
    (S.rejected, 3.0, "dukcapil", P.biasa, In.telegram, "duplicate"),
    (S.rejected, 20.0, "dinkes", P.biasa, In.telegram, ""),
    (S.rejected, 35.0, "kec-oebobo", P.biasa, In.telegram, ""),
)
QUESTIONS = (
    "Mohon sebutkan tanggal dan jam Anda datang ke loket, serta nomor antrean bila masih ada.",
    "Apakah Anda dapat mengirimkan foto kuitansi atau bukti pembayaran yang diminta?",
    "Mohon jelaskan ciri-ciri petugas yang melayani Anda (loket dan jam).",
)
REPLIES = (
    "Saya datang hari Selasa sekitar jam 10 pagi, nomor antrean A-37.",
    "Tidak ada kuitansi, uangnya diterima langsung di meja loket 3.",
)
RESOLUTIONS = (
    "Petugas yang bersangkutan sudah ditegur dan berkas Anda selesai diproses; dokumen "
    "dapat diambil di loket 2.",
    "Jam layanan sudah dikembalikan sesuai standar pelayanan dan diawasi kepala seksi.",
    "Kami memeriksa laporan ini dan tidak menemukan pelanggaran; prosedur sudah dijelaskan "
    "ulang kepada Anda.",
)
NOTES = (
    "Sudah dikonfirmasi ke kepala seksi pelayanan, menunggu klarifikasi petugas loket.",
    "Cek rekaman CCTV ruang tunggu untuk tanggal yang disebut warga.",
)


def _demo_cases(
    session: Session,
    rng: random.Random,
    policy: CasePolicy,
    units: dict[str, tuple[Unit, list[Service], list[Officer]]],
    *,
    now: datetime,
) -> int:
    """File the demo complaints oldest first and take each through the lifecycle to its
    scenario's state, every step at its own moment in the past."""
    staff = {
        user.username: actor_for(session, user.id)
        for user in session.exec(select(AppUser)).all()
        if user.id is not None
    }
    admin, spv, head = staff["admin"], staff[SUPERVISOR], staff[HEAD]
    assert admin is not None and spv is not None and head is not None
    filed: list[Case] = []
    for n, (status, age, code, privacy, intake, twist) in enumerate(
        sorted(SCENARIOS, key=lambda sc: -sc[1])
    ):
        unit, services, officers = units[code]
        assert unit.id is not None
        received = now - timedelta(days=age, minutes=rng.randrange(5, 90))
        span = now - received

        def at(fraction: float, received: datetime = received, span: timedelta = span) -> datetime:
            return received + span * fraction

        category, text = COMPLAINTS[n % len(COMPLAINTS)]
        officer = rng.choice(officers) if officers and rng.random() < 0.4 else None
        service = rng.choice(services) if services and rng.random() < 0.7 else None
        draft = ComplaintDraft(
            unit_id=unit.id,
            category=category,
            description=text,
            privacy=privacy,
            officer_id=officer.id if officer else None,
            service_id=service.id if service else None,
            channel=intake,
        )
        handler: Actor = spv if code in SUPERVISOR_UNITS else admin
        citizen: Citizen | None = None
        if intake is Intake.telegram:
            citizen = Citizen(consent_at=received, created_at=received)
            session.add(citizen)
            session.flush()
            assert citizen.id is not None
            chat = Contact(
                channel=Channel.telegram, address=str(DEMO_CHAT + n), citizen_id=citizen.id
            )
            session.add(chat)
            case = file_complaint(session, citizen, draft, policy, now=received)
        else:
            phone = f"08{rng.randrange(11, 59)}{rng.randrange(10**7, 10**8)}"
            case = record_complaint(
                session,
                draft,
                policy,
                actor=handler,
                now=received,
                contact=CitizenContact(phone=phone if rng.random() < 0.7 else None),
                lapor_id=f"LPR-{received:%y%m}-{rng.randrange(10**5, 10**6)}" if twist else None,
            )
        filed.append(case)
        if status is CaseStatus.received:
            continue
        if status is CaseStatus.rejected:
            original = next(
                (c for c in filed if twist and c.unit_id == case.unit_id and c is not case),
                None,
            )
            reason = (
                "Laporan yang sama sudah kami terima dan sedang ditangani."
                if original
                else "Laporan ini bukan kewenangan unit kami; silakan hubungi kelurahan setempat."
            )
            reject(
                session,
                case,
                reason,
                actor=handler,
                duplicate_of=original.reference if original else None,
                now=at(0.1),
            )
            continue
        verify(session, case, policy, actor=handler, now=at(0.05 if twist == "late" else 0.1))
        if status is CaseStatus.verified:
            continue
        may_take = code in HEAD_UNITS and privacy is not Privacy.rahasia and n % 2 == 0
        assignee = head if may_take else handler
        assign(session, case, actor=handler, assignee_id=assignee.user_id, now=at(0.2))
        if twist == "note":
            add_note(session, case, rng.choice(NOTES), actor=assignee, now=at(0.3))
        if status is CaseStatus.waiting_citizen or twist == "replied":
            request_info(session, case, rng.choice(QUESTIONS), actor=assignee, now=at(0.4))
        if twist == "replied" and citizen is not None:
            citizen_reply(session, citizen, case, rng.choice(REPLIES), now=at(0.5))
        if status in (CaseStatus.in_progress, CaseStatus.waiting_citizen):
            continue
        outcome = rng.choice((CaseOutcome.substantiated, CaseOutcome.partly))
        resolve(session, case, outcome, rng.choice(RESOLUTIONS), actor=assignee, now=at(0.8))
        if status is CaseStatus.resolved:
            continue
        if twist == "satisfied" and citizen is not None:
            citizen_rate(session, citizen, case, policy, True, now=at(0.9))
        else:
            close(session, case, actor=handler, now=at(0.95))
    session.flush()
    _deliver_demo_notices(session)
    return len(filed)


def _deliver_demo_notices(session: Session) -> None:
    """The demo's history: its notices to citizens were delivered when they were written,
    except the newest one, which shows what a notice that could not be delivered looks
    like (the citizen blocked the bot). Notices of what staff do next are queued as usual."""
    session.execute(
        update(OutboundMessage)
        .where(col(OutboundMessage.status) == OutboxStatus.pending.value)
        .values(status=OutboxStatus.sent.value, sent_at=OutboundMessage.created_at, attempts=1)
    )
    newest = session.exec(
        select(OutboundMessage)
        .where(col(OutboundMessage.case_event_id).is_not(None))
        .order_by(col(OutboundMessage.created_at).desc())
    ).first()
    if newest is not None:
        newest.status = OutboxStatus.failed.value
        newest.sent_at = None
        newest.last_error = "Forbidden: bot was blocked by the user"
        session.add(newest)
    session.flush()
