"""`asn-feedback chat` driven through a pseudo-terminal: a whole survey, stored for real."""

from __future__ import annotations

import os
import sys

import pexpect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.surveys.models import SurveyResponse
from tests.contacts import citizen_of
from tests.factories import make_unit
from tests.waiting import TIMEOUT


def test_a_survey_in_the_terminal(engine: Engine, db_url: str, tmp_path: object) -> None:
    with Session(engine) as s:
        make_unit(s, "kec-alak", "Kecamatan Alak")
        s.commit()
    env = {**os.environ, "DATABASE_URL": db_url, "ENVIRONMENT": "test", "TELEGRAM_BOT_TOKEN": ""}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "app", "chat", "--user-id", "31337", "--lang", "id"],
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,  # each expect() waits for its text; this only bounds a failure
        cwd=str(tmp_path),
    )
    try:
        child.expect("Pemberitahuan privasi")
        child.expect(r"\[1\] ✅ Saya setuju")
        child.sendline("1")
        child.expect("Menu utama")
        child.expect(r"\[1\] ⭐ Nilai layanan")
        child.sendline("1")
        child.expect(r"\[1\] Kecamatan Alak")
        child.sendline("1")
        for n in range(1, 10):
            child.expect(f"Pertanyaan {n} dari 9")
            child.expect(r"\[4\] ")
            child.sendline("4")
        child.expect("saran atau komentar")
        child.sendline("Pelayanan cepat dan ramah.")
        child.expect("Jenis kelamin")
        child.expect(r"\[3\] Lewati semua dan kirim")
        child.sendline("3")
        child.expect("Terima kasih")
        child.sendeof()
        child.expect("bye")
    finally:
        child.close(force=True)
    with Session(engine) as s:
        [response] = s.exec(select(SurveyResponse)).all()
        citizen = citizen_of(s, 31337)
    assert response.citizen_id == citizen.id
    assert [response.q1, response.q9] == [4, 4] and response.comment == "Pelayanan cepat dan ramah."
