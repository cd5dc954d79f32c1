"""The quote and the invoices as PDF (reportlab), and each invoice's Factur-X copy for
Chorus Pro: the same PDF with its structured data (CII XML, profile BASIC) embedded by the
``factur-x`` library, which checks the XML against the Factur-X schema as it embeds it.

The texts are French: they are legal documents addressed to a French commune."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

import facturx
from lxml import etree
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from agora.billing.money import euros, plain_decimal

#: Factur-X profile BASIC (lines, VAT breakdown, totals): accepted by Chorus Pro.
BASIC = "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic"
_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}


@dataclass(frozen=True)
class Party:
    name: str
    siret: str
    address: str = ""
    vat_number: str = ""
    #: Chorus Pro's service code (buyer only).
    service_code: str = ""
    email: str = ""


@dataclass(frozen=True)
class Line:
    label: str
    excl_tax_cents: int


@dataclass(frozen=True)
class Bill:
    """A quote or an invoice, as printed."""

    kind: str  # "quote" or "invoice"
    number: str
    title: str
    issued_on: date
    seller: Party
    buyer: Party
    lines: Sequence[Line]
    excl_tax_cents: int
    vat_cents: int
    incl_tax_cents: int
    due_on: date | None = None
    engagement_number: str = ""
    quote_number: str = ""
    iban: str = ""
    bic: str = ""
    notes: Sequence[str] = ()


def _party(label: str, party: Party) -> str:
    rows = [f"<b>{escape(label)}</b>", escape(party.name)]
    if party.address:
        rows.append(escape(party.address).replace("\n", "<br/>"))
    rows.append(f"SIRET : {escape(party.siret)}")
    if party.vat_number:
        rows.append(f"N° TVA intracommunautaire : {escape(party.vat_number)}")
    if party.service_code:
        rows.append(f"Code service Chorus Pro : {escape(party.service_code)}")
    return "<br/>".join(rows)


def render_pdf(bill: Bill) -> bytes:
    styles = getSampleStyleSheet()
    heading = "Devis" if bill.kind == "quote" else "Facture"
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{heading} {bill.number}",
        author=bill.seller.name,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
    )
    story: list[Flowable] = [
        Paragraph(f"{heading} n° {escape(bill.number)}", styles["Title"]),
        Paragraph(escape(bill.title), styles["Italic"]),
        Spacer(1, 0.4 * cm),
        Table(
            [
                [
                    Paragraph(_party("Émetteur", bill.seller), styles["BodyText"]),
                    Paragraph(_party("Destinataire", bill.buyer), styles["BodyText"]),
                ]
            ],
            colWidths=[8.5 * cm, 8.5 * cm],
        ),
        Spacer(1, 0.4 * cm),
    ]
    facts = [f"Date : {bill.issued_on.strftime('%d/%m/%Y')}"]
    if bill.due_on is not None:
        facts.append(f"Échéance : {bill.due_on.strftime('%d/%m/%Y')} (30 jours)")
    if bill.quote_number:
        facts.append(f"Devis : {escape(bill.quote_number)}")
    if bill.engagement_number:
        facts.append(f"N° d'engagement : {escape(bill.engagement_number)}")
    story.append(Paragraph("<br/>".join(facts), styles["BodyText"]))
    story.append(Spacer(1, 0.4 * cm))
    rows: list[list[str]] = [["Désignation", "Montant HT"]]
    rows += [[line.label, euros(line.excl_tax_cents)] for line in bill.lines]
    rows += [
        ["Total HT", euros(bill.excl_tax_cents)],
        ["TVA 20 %", euros(bill.vat_cents)],
        ["Total TTC", euros(bill.incl_tax_cents)],
    ]
    table = Table(rows, colWidths=[12.5 * cm, 4.5 * cm])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEABOVE", (0, -3), (-1, -3), 0.5, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    story.append(Spacer(1, 0.5 * cm))
    if bill.iban:
        story.append(
            Paragraph(
                f"Paiement par virement bancaire — IBAN : {escape(bill.iban)}"
                + (f" — BIC : {escape(bill.bic)}" if bill.bic else "")
                + f" — référence : {escape(bill.number)}",
                styles["BodyText"],
            )
        )
    for note in bill.notes:
        story.append(Paragraph(escape(note), styles["BodyText"]))
    document.build(story)
    return buffer.getvalue()


def _element(
    parent: etree._Element, tag: str, text: str | None = None, **attributes: str
) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{_NS[prefix]}}}{name}", attrib=attributes or None)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, day: date) -> None:
    holder = _element(parent, tag)
    _element(holder, "udt:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _trade_party(parent: etree._Element, tag: str, party: Party, *, seller: bool) -> None:
    node = _element(parent, tag)
    _element(node, "ram:Name", party.name)
    legal = _element(node, "ram:SpecifiedLegalOrganization")
    # 0002: SIREN/SIRET (ISO 6523), the scheme Chorus Pro reads.
    _element(legal, "ram:ID", party.siret, schemeID="0002")
    address = _element(node, "ram:PostalTradeAddress")
    _element(address, "ram:CountryID", "FR")
    if party.email:
        contact = _element(node, "ram:URIUniversalCommunication")
        _element(contact, "ram:URIID", party.email, schemeID="EM")
    if seller and party.vat_number:
        tax = _element(node, "ram:SpecifiedTaxRegistration")
        _element(tax, "ram:ID", party.vat_number, schemeID="VA")


def facturx_xml(bill: Bill) -> bytes:
    """The invoice as Factur-X BASIC (UN/CEFACT CII)."""
    root = etree.Element(f"{{{_NS['rsm']}}}CrossIndustryInvoice", nsmap=_NS)
    context = _element(root, "rsm:ExchangedDocumentContext")
    process = _element(context, "ram:BusinessProcessSpecifiedDocumentContextParameter")
    _element(process, "ram:ID", "A1")  # Chorus Pro: an invoice for goods or services
    guideline = _element(context, "ram:GuidelineSpecifiedDocumentContextParameter")
    _element(guideline, "ram:ID", BASIC)
    header = _element(root, "rsm:ExchangedDocument")
    _element(header, "ram:ID", bill.number)
    _element(header, "ram:TypeCode", "380")
    _date(header, "ram:IssueDateTime", bill.issued_on)
    transaction = _element(root, "rsm:SupplyChainTradeTransaction")
    for index, line in enumerate(bill.lines, start=1):
        item = _element(transaction, "ram:IncludedSupplyChainTradeLineItem")
        document = _element(item, "ram:AssociatedDocumentLineDocument")
        _element(document, "ram:LineID", str(index))
        product = _element(item, "ram:SpecifiedTradeProduct")
        _element(product, "ram:Name", line.label)
        agreement = _element(item, "ram:SpecifiedLineTradeAgreement")
        price = _element(agreement, "ram:NetPriceProductTradePrice")
        _element(price, "ram:ChargeAmount", plain_decimal(line.excl_tax_cents))
        delivery = _element(item, "ram:SpecifiedLineTradeDelivery")
        _element(delivery, "ram:BilledQuantity", "1", unitCode="C62")
        settlement = _element(item, "ram:SpecifiedLineTradeSettlement")
        tax = _element(settlement, "ram:ApplicableTradeTax")
        _element(tax, "ram:TypeCode", "VAT")
        _element(tax, "ram:CategoryCode", "S")
        _element(tax, "ram:RateApplicablePercent", "20.00")
        summation = _element(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _element(summation, "ram:LineTotalAmount", plain_decimal(line.excl_tax_cents))
    agreement = _element(transaction, "ram:ApplicableHeaderTradeAgreement")
    if bill.buyer.service_code:
        _element(agreement, "ram:BuyerReference", bill.buyer.service_code)
    _trade_party(agreement, "ram:SellerTradeParty", bill.seller, seller=True)
    _trade_party(agreement, "ram:BuyerTradeParty", bill.buyer, seller=False)
    if bill.engagement_number:
        order = _element(agreement, "ram:BuyerOrderReferencedDocument")
        _element(order, "ram:IssuerAssignedID", bill.engagement_number)
    _element(transaction, "ram:ApplicableHeaderTradeDelivery")
    settlement = _element(transaction, "ram:ApplicableHeaderTradeSettlement")
    _element(settlement, "ram:InvoiceCurrencyCode", "EUR")
    means = _element(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _element(means, "ram:TypeCode", "30")  # credit transfer
    if bill.iban:
        account = _element(means, "ram:PayeePartyCreditorFinancialAccount")
        _element(account, "ram:IBANID", bill.iban)
    tax = _element(settlement, "ram:ApplicableTradeTax")
    _element(tax, "ram:CalculatedAmount", plain_decimal(bill.vat_cents))
    _element(tax, "ram:TypeCode", "VAT")
    _element(tax, "ram:BasisAmount", plain_decimal(bill.excl_tax_cents))
    _element(tax, "ram:CategoryCode", "S")
    _element(tax, "ram:RateApplicablePercent", "20.00")
    if bill.due_on is not None:
        terms = _element(settlement, "ram:SpecifiedTradePaymentTerms")
        _date(terms, "ram:DueDateDateTime", bill.due_on)
    totals = _element(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _element(totals, "ram:LineTotalAmount", plain_decimal(bill.excl_tax_cents))
    _element(totals, "ram:TaxBasisTotalAmount", plain_decimal(bill.excl_tax_cents))
    _element(totals, "ram:TaxTotalAmount", plain_decimal(bill.vat_cents), currencyID="EUR")
    _element(totals, "ram:GrandTotalAmount", plain_decimal(bill.incl_tax_cents))
    _element(totals, "ram:DuePayableAmount", plain_decimal(bill.incl_tax_cents))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def facturx_pdf(bill: Bill) -> bytes:
    """The invoice's PDF with its Factur-X XML embedded (checked against the schema)."""
    pdf = render_pdf(bill)
    result: bytes = facturx.generate_from_binary(
        pdf, facturx_xml(bill), flavor="factur-x", level="basic", check_xsd=True, lang="fr-FR"
    )
    return result
