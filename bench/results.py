"""
What one benchmark found on one database: tables of figures, the targets it
checked, and notes. Kept as plain data so that the run for each database,
made in its own process, can hand its findings back as JSON.
"""

from dataclasses import asdict, dataclass, field


@dataclass
class Table:
    title: str
    columns: list
    rows: list = field(default_factory=list)
    # Put before every row: the database, so that both databases' rows can
    # share one table in the report.
    lead: list = field(default_factory=list)

    def add(self, *values):
        self.rows.append([*self.lead, *values])


@dataclass
class Check:
    target: str
    met: bool | None  # None: could not be judged
    detail: str


@dataclass
class Section:
    key: str
    title: str
    database: str
    tables: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    # (title, preformatted text): query plans and profiles of slow paths.
    details: list = field(default_factory=list)
    not_run: str = ""

    def table(self, title, columns):
        table = Table(title, ["database", *columns], lead=[self.database])
        self.tables.append(table)
        return table

    def check(self, target, met, detail):
        self.checks.append(Check(target, met, detail))

    def detail(self, title, text):
        self.details.append([title, text])

    def as_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data["tables"] = [Table(**table) for table in data["tables"]]
        data["checks"] = [Check(**check) for check in data["checks"]]
        return cls(**data)


def not_run(key, title, database, reason):
    return Section(key=key, title=title, database=database, not_run=reason)
