"""The sign-in sheet (签到表) of a camp: an .xlsx to print and pass round.

One row per enrolled person (ordered by organization, then name), with an
empty signature column. It is paper that goes round a room, so ID numbers
and phones are always masked on it, whoever prints it.
"""

from __future__ import annotations


from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.api import mask_phone, mask_resident_id
from plugins.cultivation.models import YouthOrg
from plugins.training.models import Camp, Enrolment

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def headers() -> list[str]:
    return [
        gettext("No."), gettext("Trainee name"), gettext("Gender"), gettext("Youth organization"),
        gettext("Role in the organization"), gettext("Mobile phone"), gettext("Resident ID number"),
        gettext("Signature"),
    ]


def roster(session, camp: Camp) -> list[Enrolment]:
    stmt = (
        select(Enrolment)
        .join(YouthOrg, YouthOrg.id == Enrolment.youth_org_id)
        .where(Enrolment.camp_id == camp.id)
        .options(selectinload(Enrolment.youth_org))
        .order_by(YouthOrg.name, Enrolment.name, Enrolment.id)
    )
    return list(session.execute(stmt).scalars())


def file_name(camp: Camp) -> str:
    return gettext("%(camp)s sign-in sheet", camp=repr(camp)) + ".xlsx"


def signin_sheet(session, camp: Camp) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.worksheet.page import PageMargins

    people = roster(session, camp)
    wb = Workbook()
    ws = wb.active
    ws.title = gettext("Sign-in sheet")
    cols = headers()
    last = chr(ord("A") + len(cols) - 1)
    ws.append([gettext("%(camp)s sign-in sheet", camp=repr(camp))])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(bold=True, size=15)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([gettext("Organizer: %(unit)s    Dates: %(dates)s    Place: %(place)s",
                       unit=camp.unit.name, dates=camp.dates_text, place=camp.place)])
    ws.merge_cells(f"A2:{last}2")
    ws.append([gettext("Enrolled: %(n)d    Places: %(capacity)d", n=len(people), capacity=camp.capacity)])
    ws.merge_cells(f"A3:{last}3")
    ws.append(cols)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.border = border
        cell.alignment = Alignment(horizontal="center")
    for i, e in enumerate(people, start=1):
        ws.append([
            i, e.name, e.gender_label, e.youth_org.name if e.youth_org else "", e.role or "",
            mask_phone(e.phone) if e.phone else "", mask_resident_id(e.resident_id) if e.resident_id else "", None,
        ])
        ws.row_dimensions[ws.max_row].height = 28
        for cell in ws[ws.max_row]:
            cell.border = border
            cell.alignment = Alignment(vertical="center")
    for col, width in zip("ABCDEFGH", (6, 12, 6, 30, 14, 15, 22, 20)):
        ws.column_dimensions[col].width = width
    ws.print_title_rows = "4:4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    from core.api import save_workbook

    return save_workbook(wb)
