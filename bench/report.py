"""Writing RESULTS.md: the machine, then one part per benchmark, with the
figures of both databases side by side."""

from bench.results import Section

VERDICT = {True: "met", False: "**MISSED**", None: "not judged"}


def number(value):
    """A figure as the tables show it: three significant digits, thousands
    separated; strings pass through."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _markdown_table(columns, rows):
    lines = [
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += ["| " + " | ".join(number(value) for value in row) + " |" for row in rows]
    return lines


def _merged(sections):
    """Sections of the same benchmark, one per database, in first-seen order."""
    merged = {}
    for section in sections:
        merged.setdefault(section.key, []).append(section)
    return merged


def _part(parts):
    title = parts[0].title
    lines = [f"## {title}", ""]

    for section in parts:
        if section.not_run:
            lines += [f"- {section.database}: **not run**: {section.not_run}"]
    if any(section.not_run for section in parts):
        lines.append("")

    tables = {}
    for section in parts:
        for table in section.tables:
            tables.setdefault(table.title, (table.columns, []))[1].extend(table.rows)
    for table_title, (columns, rows) in tables.items():
        lines += [f"**{table_title}**", "", *_markdown_table(columns, rows), ""]

    checks = [(s.database, check) for s in parts for check in s.checks]
    if checks:
        lines += _markdown_table(
            ["database", "target", "verdict", "measured"],
            [[db, c.target, VERDICT[c.met], c.detail] for db, c in checks],
        )
        lines.append("")

    seen = set()
    for section in parts:
        for note in section.notes:
            if note not in seen:
                seen.add(note)
                lines += [f"- {section.database}: {note}" if section.database else note]
    if seen:
        lines.append("")

    for section in parts:
        for detail_title, text in section.details:
            lines += [
                f"{section.database}: {detail_title}",
                "",
                "```",
                text.rstrip(),
                "```",
                "",
            ]
    return lines


def render(*, machine, sections, mode, command, seconds):
    sections = [s if isinstance(s, Section) else Section.from_dict(s) for s in sections]
    lines = [
        "# Storybatch benchmark results",
        "",
        f"Written by `{command}` ({mode} mode) on {machine['date']}, in "
        f"{seconds / 60:.1f} minutes. See bench/README.md for what each benchmark "
        "measures and how to read these tables.",
        "",
        "## Machine",
        "",
        *_markdown_table(
            ["what", "value"],
            [
                ["CPU", machine["cpu"]],
                ["cores", str(machine["cores"])],
                ["memory", f"{machine['memory_gib']} GiB"],
                ["OS", machine["os"]],
                ["Python", machine["python"]],
                ["SQLite", machine["sqlite"]],
                ["PostgreSQL", machine["postgresql"]],
                ["wrk", machine["wrk"]],
            ],
        ),
        "",
        "The machine is shared with other engineers' test runs: compare figures "
        "within a table (they ran interleaved, in the same run), not across runs.",
        "",
    ]

    summary = [
        [part.title, part.database, check.target, VERDICT[check.met]]
        for part in sections
        for check in part.checks
    ]
    summary += [
        [part.title, part.database, "–", f"not run: {part.not_run}"]
        for part in sections
        if part.not_run
    ]
    lines += [
        "## Summary",
        "",
        *_markdown_table(["benchmark", "database", "target", "verdict"], summary),
        "",
    ]

    for parts in _merged(sections).values():
        lines += _part(parts)
    return "\n".join(lines).rstrip() + "\n"
