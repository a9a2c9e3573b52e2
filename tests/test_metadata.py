"""A report's title, date and unit: read from the real provincial reports, the bundled reports and files made the
way offices make them; kept in SQLite (a library of an earlier schema upgrades in place); corrected by admins."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import docx
import pytest

from officefiles import word_document
from retrieval import Library, Segmenter, Store
from retrieval.digest import build_digest
from retrieval.extract import read_report_file
from retrieval.ingest import ingest_bytes, ingest_file, ingest_paths
from retrieval.metadata import ReportMetadata, distinctions, read_metadata
from retrieval.store import SCHEMA_VERSION, Report
from tests.support import REPORTS, ROOT
from tests.test_extract import build_pdf

PROVINCIAL = ROOT / "tests" / "corpora" / "provincial-2026"

# Truth read from the top of each file: its page heading or title block, and the dateline under it. Where the
# text's title is only 政府工作报告 (or 2026年政府工作报告), the file name says the same more specifically and is the
# title (a reader must tell 31 of them apart). The reporting body is the province's people's government.
PROVINCIAL_DATES = {
    "上海市": "2026-02-03",
    "云南省": "2026-01-28",
    "内蒙古自治区": "2026-02-04",
    "北京市": "2026-01-25",
    "吉林省": "2026-01-27",
    "四川省": "2026-02-03",
    "天津市": "2026-01-26",
    "宁夏回族自治区": "2026-02-03",
    "安徽省": "2026-02-05",
    "山东省": "2026-01-27",
    "山西省": "2026-02-02",
    "广东省": "2026-01-26",
    "广西壮族自治区": "2026-02-02",
    "新疆维吾尔自治区": "2026-01-27",
    "江苏省": "2026-02-03",
    "江西省": "2026-01-27",
    "河北省": "2026-01-26",
    "河南省": "2026-01-26",
    "浙江省": "2026-01-14",
    "海南省": "2026-01-27",
    "湖北省": "2026-01-27",
    "湖南省": "2026-02-03",
    "甘肃省": "2026-01-27",  # written 二〇二六年一月二十七日
    "福建省": "2026-01-27",
    "西藏自治区": "2026-01-31",
    "贵州省": "2026-01-27",
    "辽宁省": "2026-01-27",
    "重庆市": "2026-01-28",
    "陕西省": "2026-01-27",
    "青海省": "2026-01-27",
    "黑龙江省": "2026-01-31",
}
# Titles that are not simply the file name's stem: the text's own, more specific or differently ordered.
PROVINCIAL_TITLES = {
    "四川省": "2026年四川省人民政府工作报告",
    "陕西省": "陕西省2026年政府工作报告",
}

BUNDLED = {
    # file: (title, date, unit); no bundled report has a title line except 002 and 003, and only 002 a year
    "000_201c88f9c3d4f927.txt": ("主题教育工作开展情况", None, "县政府办公室"),
    "001_21f5e1b268e4dc66.txt": ("主题教育开展情况", None, "**区"),
    "002_c09105e2aec2ab18.txt": ("2023年主题教育开展情况汇报", "2023", "*县委"),
    "003_76e823c6e0fb73eb.txt": ("第二批主题教育10月份阶段性总结", None, "X党组"),
    "004_50575b0fd58a1697.txt": ("学习贯彻习近平新时代中国特色社会主义思想主题教育开展情况", None, None),
}


def _read(path: Path) -> ReportMetadata:
    extracted = read_report_file(path)
    return read_metadata(
        extracted.lines, extracted.source, declared_title=extracted.title, declared_date=extracted.declared_date
    )


def _read_raw(path: Path) -> ReportMetadata:
    """The file's lines as scraped, web furniture and all (whatever extract drops, the reader copes without)."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return read_metadata(lines, path.name)


@pytest.mark.parametrize("read", [_read, _read_raw], ids=["extracted", "raw"])
@pytest.mark.parametrize("area", sorted(PROVINCIAL_DATES))
def test_provincial_reports(area: str, read: Callable[[Path], ReportMetadata]) -> None:
    path = PROVINCIAL / f"2026年{area}政府工作报告.txt"
    metadata = read(path)
    assert (metadata.title, metadata.date, metadata.unit) == (
        PROVINCIAL_TITLES.get(area, path.stem),
        PROVINCIAL_DATES[area],
        area + "人民政府",
    )
    assert metadata.year == 2026


def test_provincial_titles_tell_the_reports_apart() -> None:
    titles = [_read(path).title for path in sorted(PROVINCIAL.glob("*.txt"))]
    assert len(titles) == 31 and len(set(titles)) == 31


def test_bundled_reports_in_the_library(corpus_library: Library) -> None:
    found = {r.source: (r.title, r.date, r.unit) for r in corpus_library.reports()}
    assert found == BUNDLED


def _v2_database(path: Path) -> None:
    """A library file as the previous version wrote it (schema 2), holding one government work report."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '2'), ('last_ingest', '2026-11-22T18:37:04+00:00');
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
            sha256 TEXT NOT NULL, kind TEXT NOT NULL, encoding TEXT, chars INTEGER NOT NULL,
            paragraph_count INTEGER NOT NULL, passage_count INTEGER NOT NULL, ingested_at TEXT NOT NULL,
            seq INTEGER NOT NULL
        );
        CREATE TABLE sections (report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL, level INTEGER NOT NULL, heading TEXT NOT NULL, paragraph INTEGER NOT NULL,
            PRIMARY KEY (report_id, idx));
        CREATE TABLE paragraphs (report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
            number INTEGER NOT NULL, kind TEXT NOT NULL, section_idx INTEGER, text TEXT NOT NULL,
            PRIMARY KEY (report_id, number));
        CREATE TABLE passages (id INTEGER PRIMARY KEY AUTOINCREMENT,
            report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE, paragraph INTEGER NOT NULL,
            kind TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, section TEXT NOT NULL,
            terms TEXT NOT NULL, norm TEXT NOT NULL);
        CREATE TABLE subscribers (chat_id INTEGER PRIMARY KEY, language TEXT NOT NULL DEFAULT 'zh',
            subscribed_at TEXT NOT NULL, last_digest_day TEXT, last_report_seq INTEGER NOT NULL DEFAULT 0,
            last_passage_id INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE watches (chat_id INTEGER NOT NULL, term TEXT NOT NULL, created_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, term));
        INSERT INTO reports VALUES (1, 'gd.txt', '各位代表', 'abc', 'txt', 'utf-8', 60, 5, 1,
            '2026-11-22T18:37:04+00:00', 1);
        INSERT INTO paragraphs VALUES (1, 1, 'body', NULL, '政府工作报告'),
            (1, 2, 'body', NULL, '——2026年1月26日在广东省第十四届'),
            (1, 3, 'body', NULL, '人民代表大会第五次会议上'),
            (1, 4, 'body', NULL, '各位代表：'),
            (1, 5, 'body', NULL, '现在，我代表省人民政府，向大会报告工作，请予审议。');
        INSERT INTO passages VALUES (1, 1, 5, 'body', 0, 24, '', '代表 省 人民政府', '现在，我代表省人民政府');
        INSERT INTO subscribers VALUES (42, 'zh', '2026-11-22T18:37:04+00:00', NULL, 1, 1);
        INSERT INTO watches VALUES (42, '首发经济', '2026-11-22T18:37:04+00:00');
        """
    )
    conn.commit()
    conn.close()


def test_an_earlier_library_upgrades_in_place(tmp_path: Path, segmenter: Segmenter) -> None:
    db = tmp_path / "old.db"
    _v2_database(db)
    library = Library(Store(db), segmenter)
    try:
        assert library.store.meta("schema_version") == str(SCHEMA_VERSION)
        (report,) = library.reports()
        # nothing lost, and the metadata read from the stored text: the salutation is no longer the title
        assert (report.id, report.source, report.sha256, report.seq) == (1, "gd.txt", "abc", 1)
        assert (report.title, report.date, report.unit) == ("政府工作报告", "2026-01-26", "广东省人民政府")
        assert library.store.subscriber(42) is not None and library.store.watches(42) == ["首发经济"]
        assert library.store.meta("last_ingest") == "2026-11-22T18:37:04+00:00"
        assert library.store.counts() == {"reports": 1, "paragraphs": 5, "passages": 1}
    finally:
        library.store.close()
    # opened again: nothing to migrate, the same card
    again = Library(Store(db), segmenter)
    try:
        assert again.refresh_metadata() == 0 and again.reports() == [report]
    finally:
        again.store.close()


def test_corrections_outlive_reingesting(library: Library, tmp_path: Path) -> None:
    report = library.edit(4, {"date": "2023-10-31", "unit": "X局党组", "title": "第二批主题教育10月份总结"})
    assert (report.title, report.date, report.unit, report.year) == (
        "第二批主题教育10月份总结",
        "2023-10-31",
        "X局党组",
        2023,
    )
    copy = tmp_path / "again" / report.source
    copy.parent.mkdir()
    copy.write_text((REPORTS / report.source).read_text(encoding="utf-8") + "\n新增一段。\n", encoding="utf-8")
    result = ingest_file(library, copy)
    assert result.status == "replaced"
    assert (result.report.title, result.report.date, result.report.unit) == (
        "第二批主题教育10月份总结",
        "2023-10-31",
        "X局党组",
    )
    # a forced re-read of every report's metadata keeps the correction too
    assert library.refresh_metadata(force=True) == 5
    assert library.store.report(4).unit == "X局党组"
    # the library's quotes use the corrected title at once
    assert {q.title for q in library.search("读书班").passages if q.report_id == 4} <= {"第二批主题教育10月份总结"}
    back = library.uncorrect(4, ["title", "unit"])
    assert (back.title, back.date, back.unit) == ("第二批主题教育10月份阶段性总结", "2023-10-31", "X党组")
    assert ingest_paths(library, [REPORTS]).ok


# --- files made the way offices make them ------------------------------------------------------------------------

OFFICE_CASES = {
    "running header, document number, addressee, signature": (
        "001.txt",
        [
            "**县人民政府办公室文件",
            "*政办发〔2024〕12号",
            "关于2023年度政务服务工作情况的报告",
            "县人民政府：",
            "2023年，县政府办公室按照县委、县政府部署，扎实推进政务服务工作，现将有关情况报告如下。",
            "一、主要做法",
            "全年办理政务服务事项12.6万件，群众满意率99.2%。",
            "**县人民政府办公室",
            "2024年1月15日",
        ],
        ("关于2023年度政务服务工作情况的报告", "2024-01-15", "**县人民政府办公室"),
    ),
    "web page with source and time lines": (
        "page.txt",
        [
            "来源：**县融媒体中心",
            "时间：2024-01-08 10:21",
            "**县2023年工作总结",
            "2023年，**县坚持稳中求进工作总基调，全县经济社会发展取得新成效。",
        ],
        ("**县2023年工作总结", "2023", "**县"),
    ),
    "salutation first, the file name says what it is": (
        "2024年**县政府工作报告.txt",
        ["各位代表：", "现在，我代表县人民政府向大会报告工作，请予审议。", "一、2023年工作回顾"],
        ("2024年**县政府工作报告", "2024", "**县人民政府"),
    ),
    "a title wrapped over two lines": (
        "a.txt",
        [
            "关于**区2023年主题教育",
            "开展情况的汇报",
            "主题教育开展以来，**区严格按照中央和省市委部署，推动主题教育走深走实。",
        ],
        ("关于**区2023年主题教育开展情况的汇报", "2023", "**区"),
    ),
    "a signature block with the date in Chinese numerals": (
        "b.txt",
        [
            "**镇2024年上半年工作总结",
            "今年以来，**镇坚持以人民为中心，各项工作有序推进。",
            "下一步，我们将持续用力，确保完成全年目标任务。",
            "**镇人民政府",
            "二〇二四年七月五日",
        ],
        ("**镇2024年上半年工作总结", "2024-07-05", "**镇人民政府"),
    ),
    "a month without its year takes the signature's": (
        "c.txt",
        [
            "第二批主题教育10月份阶段性总结",
            "第二批主题教育开展以来，X党组牢牢把握总要求，扎实推进各项工作。",
            "X党组",
            "2023年10月31日",
        ],
        ("第二批主题教育10月份阶段性总结", "2023-10-31", "X党组"),
    ),
    "a month in the title, the year in the file name": (
        "2023年主题教育总结.txt",
        ["第二批主题教育10月份阶段性总结", "第二批主题教育开展以来，X党组牢牢把握总要求。"],
        ("第二批主题教育10月份阶段性总结", "2023-10", "X党组"),
    ),
    "the State Council's report": (
        "000_5d41402abc4b2a76.txt",
        [
            "政府工作报告",
            "——2024年3月5日在第十四届全国人民代表大会第二次会议上",
            "国务院总理 李强",
            "各位代表：",
            "现在，我代表国务院，向大会报告政府工作，请予审议，并请全国政协委员提出意见。",
        ],
        ("政府工作报告", "2024-03-05", "国务院"),
    ),
    "a parenthesised dateline in full-width digits, the speaker without a place": (
        "d.txt",
        [
            "政府工作报告",
            "（２０２４年１月２０日在**市第十七届人民代表大会第三次会议上）",
            "市长 张三",
            "各位代表：",
            "现在，我代表市人民政府向大会报告工作，请予审议。",
        ],
        ("政府工作报告", "2024-01-20", "**市人民政府"),
    ),
    "the congress's resolution on the report": (
        "f.txt",
        [
            "第十四届全国人民代表大会第二次会议关于政府工作报告的决议",
            "（2024年3月11日第十四届全国人民代表大会第二次会议通过）",
            "第十四届全国人民代表大会第二次会议听取和审议了国务院总理李强所作的政府工作报告。",
        ],
        ("第十四届全国人民代表大会第二次会议关于政府工作报告的决议", "2024-03-11", "全国人民代表大会"),
    ),
    "a province's congress resolution": (
        "g.txt",
        [
            "广东省第十四届人民代表大会第五次会议关于广东省人民政府工作报告的决议",
            "（2026年1月30日广东省第十四届人民代表大会第五次会议通过）",
            "会议听取和审议了省长所作的政府工作报告。",
        ],
        ("广东省第十四届人民代表大会第五次会议关于广东省人民政府工作报告的决议", "2026-01-30", "广东省人民代表大会"),
    ),
    "a speech with a subtitle line": (
        "e.txt",
        [
            "凝心聚力 实干争先 奋力开创高质量发展新局面",
            "——在2024年全县经济工作会议上的讲话",
            "同志们：",
            "这次会议的主要任务是总结2023年经济工作，部署2024年重点任务。",
        ],
        ("凝心聚力 实干争先 奋力开创高质量发展新局面", "2024", None),
    ),
}


@pytest.mark.parametrize("case", sorted(OFFICE_CASES))
def test_office_style_inputs(case: str) -> None:
    source, lines, expected = OFFICE_CASES[case]
    metadata = read_metadata(lines, source)
    assert (metadata.title, metadata.date, metadata.unit) == expected


def test_web_furniture_is_never_the_title() -> None:
    furniture = ["下载", "打印", "全屏", "收藏", "【字号：", "加大", "还原", "减小", "】", "来源：新华社", "分享："]
    for lines in ([*furniture, "各位代表："], ["(anonymous)", "Microsoft Word - 总结.doc", "各位代表："]):
        metadata = read_metadata([*lines, "现在，我代表县人民政府向大会报告工作。"], "000_1a2b3c4d.txt")
        assert metadata.title is None and metadata.title_lines == ()


def test_a_word_file_with_a_title_style(tmp_path: Path) -> None:
    data = word_document("X局2023年工作总结", ["一、主要做法", "2023年，X局坚持稳中求进，各项工作取得新成效。"])
    path = tmp_path / "report.docx"
    path.write_bytes(data)
    metadata = _read(path)
    assert (metadata.title, metadata.date, metadata.unit) == ("X局2023年工作总结", "2023", "X局")


@pytest.mark.parametrize("declared", ["(anonymous)", "Microsoft Word - 工作总结.doc", "anonymous"])
def test_a_pdf_with_empty_metadata(tmp_path: Path, declared: str) -> None:
    path = tmp_path / "scan_001.pdf"
    path.write_bytes(build_pdf(["今年以来，我局坚持稳中求进工作总基调，扎实推进各项工作。"], title=declared))
    metadata = _read(path)
    assert metadata.title is None  # the library then derives one from the opening sentence, never the metadata
    path.write_bytes(build_pdf(["2024年上半年工作总结", "今年以来，*县统计局扎实推进统计工作。"], title=declared))
    assert _read(path).title == "2024年上半年工作总结"


def test_a_pdf_whose_properties_name_it(tmp_path: Path) -> None:
    path = tmp_path / "scan_002.pdf"
    path.write_bytes(
        build_pdf(["今年以来，我局坚持稳中求进，扎实推进各项工作。"], title="**县统计局2024年上半年工作总结")
    )
    metadata = _read(path)
    assert (metadata.title, metadata.date, metadata.unit) == ("**县统计局2024年上半年工作总结", "2024", "**县统计局")


def test_same_titles_are_told_apart() -> None:
    reports = [
        Report(1, "a.txt", "政府工作报告", "", "txt", None, 0, 0, 0, "", 1, "", "2024-03-05", "国务院"),
        Report(2, "b.txt", "政府工作报告", "", "txt", None, 0, 0, 0, "", 2, "", "2023-03-05", "国务院"),
        Report(3, "c.txt", "工作总结", "", "txt", None, 0, 0, 0, "", 3, "", "2024", "X局"),
        Report(4, "d.txt", "工作总结", "", "txt", None, 0, 0, 0, "", 4, "", "2024", "Y局"),
        Report(5, "e.txt", "情况汇报", "", "txt", None, 0, 0, 0, "", 5, "", None, None),
        Report(6, "f.txt", "情况汇报", "", "txt", None, 0, 0, 0, "", 6, "", None, None),
        Report(7, "g.txt", "独一无二", "", "txt", None, 0, 0, 0, "", 7, "", None, None),
    ]
    assert distinctions(reports) == {1: "2024-03-05", 2: "2023-03-05", 3: "X局", 4: "Y局", 5: "#5", 6: "#6"}


def test_a_digest_tells_reports_of_one_title_apart(library: Library) -> None:
    seq, last = library.store.max_report_seq(), library.store.max_passage_id()
    for name, day in (("a.txt", "2024年1月20日"), ("b.txt", "2025年1月22日")):
        text = f"政府工作报告\n——{day}在甲省第十四届人民代表大会第二次会议上\n各位代表：\n全年新开首店120家。\n"
        ingest_bytes(library, name, text.encode())
    digest = build_digest(library, day=date(2026, 11, 23), last_report_seq=seq, last_passage_id=last, watches=[])
    assert [(i.report.title, i.report.distinction) for i in digest.new_reports] == [
        ("政府工作报告", "2024-01-20"),
        ("政府工作报告", "2025-01-22"),
    ]
    # by file name as well as by number
    assert library.edit("b.txt", {"unit": "甲省政府"}).unit == "甲省政府"


def _word_file(path: Path, paragraphs: Sequence[str], created: datetime | None, modified: datetime | None) -> Path:
    """A .docx made with python-docx whose core properties say when it was created and last modified."""
    document = docx.Document(io.BytesIO(word_document("X局工作总结", paragraphs)))
    if created is not None:
        document.core_properties.created = created
    if modified is not None:
        document.core_properties.modified = modified
    document.save(str(path))
    return path


UNDATED = ["今年以来，X局坚持稳中求进工作总基调，扎实推进各项工作。", "一、主要做法", "抓好学习教育。"]
DATELINE = ["——2023年12月28日在全局工作会议上", *UNDATED]


def test_a_word_files_properties_date_it_last(tmp_path: Path, segmenter: Segmenter) -> None:
    created = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    path = _word_file(tmp_path / "总结.docx", UNDATED, created, datetime(2024, 4, 1, tzinfo=UTC))
    assert read_report_file(path).declared_date == "2024-03-05"
    assert _read(path).date == "2024-03-05"
    # a dateline in the text wins over the properties
    dated = _word_file(tmp_path / "讲话.docx", DATELINE, created, None)
    assert _read(dated).date == "2023-12-28"
    # created missing: the modification day; both meaningless (a zero date, the future, python-docx's template)
    assert _read(_word_file(path, UNDATED, None, datetime(2024, 4, 1, 12, 0))).date == "2024-04-01"
    future = datetime.now(UTC) + timedelta(days=400)
    for bad in (datetime(1601, 1, 1, tzinfo=UTC), future, datetime(2013, 12, 23, 23, 15)):
        assert read_report_file(_word_file(path, UNDATED, bad, bad)).declared_date is None
    assert _read(_word_file(path, UNDATED, datetime(1970, 1, 1), future)).date is None

    # in a library: kept through a re-read of the stored text, and an admin's correction still wins
    _word_file(path, UNDATED, created, None)
    library = Library(Store(tmp_path / "reports.db"), segmenter)
    try:
        report = ingest_file(library, path).report
        assert report.date == "2024-03-05"
        assert library.refresh_metadata(force=True) == 1
        assert library.store.report(report.id).date == "2024-03-05"
        library.edit(report.id, {"date": "2024-02"})
        assert library.refresh_metadata(force=True) == 1
        assert library.store.report(report.id).date == "2024-02"
    finally:
        library.store.close()


def test_a_pdfs_creation_date_dates_it_last(tmp_path: Path) -> None:
    path = tmp_path / "scan_003.pdf"
    path.write_bytes(build_pdf(UNDATED, created="D:20240305093000+08'00'"))
    assert _read(path).date == "2024-03-05"
    path.write_bytes(build_pdf(DATELINE, created="D:20240305093000+08'00'"))
    assert _read(path).date == "2023-12-28"
    for bad in ("D:19700101000000Z", "D:20991231000000Z", "D:20241345000000", "yesterday"):
        path.write_bytes(build_pdf(UNDATED, created=bad))
        assert read_report_file(path).declared_date is None, bad
        assert _read(path).date is None
