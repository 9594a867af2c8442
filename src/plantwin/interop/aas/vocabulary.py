"""Semantic ids and element names of the AAS mapping (the table in docs/aas.md).

Standard ids are used where a published submodel template or dictionary defines the concept:
IDTA 02006-2-0 (Digital Nameplate), IDTA 02011-1-0 (Hierarchical Structures enabling Bills
of Material), ECLASS IRDIs of the nameplate properties and the IEC 61360 data specification
template. Everything plantwin-specific (signals, states, commands, bindings, rules,
notifications) carries an id under ``urn:plantwin:aas:1:``, so a reader can tell plantwin's
own concepts from standard ones.
"""

from __future__ import annotations

# --- IDTA 02011-1-0 Hierarchical Structures enabling Bills of Material
HS = "https://admin-shell.io/idta/HierarchicalStructures/"
HIERARCHY_SUBMODEL = HS + "1/0/Submodel"
HS_ARCHETYPE = HS + "ArcheType/1/0"
HS_ENTRY_NODE = HS + "EntryNode/1/0"
HS_NODE = HS + "Node/1/0"
HS_HAS_PART = HS + "HasPart/1/0"

# --- IDTA 02006-2-0 Digital Nameplate (ids of the elements are ECLASS IRDIs)
NAMEPLATE_SUBMODEL = "https://admin-shell.io/zvei/nameplate/2/0/Nameplate"
NAMEPLATE_V1_SUBMODEL = "https://admin-shell.io/zvei/nameplate/1/0/Nameplate"  # read only
MANUFACTURER_NAME = "0173-1#02-AAO677#002"
PRODUCT_TYPE = "0173-1#02-AAO057#002"
SERIAL_NUMBER = "0173-1#02-AAM556#002"
PRODUCT_DESIGNATION = "0173-1#02-AAW338#001"
YEAR_OF_CONSTRUCTION = "0173-1#02-AAP906#001"
DATE_OF_MANUFACTURE = "0173-1#02-AAR972#002"

# plant property <-> nameplate element (idShort, semantic id); written when the value is text.
NAMEPLATE_PROPERTIES: dict[str, tuple[str, str]] = {
    "maker": ("ManufacturerName", MANUFACTURER_NAME),
    "model": ("ManufacturerProductType", PRODUCT_TYPE),
    "serial": ("SerialNumber", SERIAL_NUMBER),
}
# Read from other tools' nameplates as plain properties of the twin.
NAMEPLATE_EXTRAS: dict[str, str] = {
    "ManufacturerProductDesignation": "product_designation",
    "YearOfConstruction": "year_of_construction",
    "DateOfManufacture": "manufacture_date",
    "URIOfTheProduct": "product_uri",
    "ManufacturerProductFamily": "product_family",
    "OrderCodeOfManufacturer": "order_code",
    "HardwareVersion": "hardware_version",
    "FirmwareVersion": "firmware_version",
    "SoftwareVersion": "software_version",
    "CountryOfOrigin": "country_of_origin",
}

# --- IEC 61360 data specification template, as implemented by basyx (metamodel V3.1)
IEC61360 = "https://admin-shell.io/DataSpecificationTemplates/DataSpecificationIEC61360/3/1"

# --- plantwin's own concepts
PW = "urn:plantwin:aas:1:"
PLANT_SUBMODEL = PW + "Plant"
CONNECTOR = PW + "Connector"
PROPERTIES_SUBMODEL = PW + "Properties"
SIGNALS_SUBMODEL = PW + "Signals"
SIGNAL = PW + "Signal"
STATES_SUBMODEL = PW + "States"
STATE = PW + "State"
COMMANDS_SUBMODEL = PW + "Commands"
COMMAND = PW + "Command"
PARAMETER = PW + "CommandParameter"
BINDINGS_SUBMODEL = PW + "Bindings"
BINDING = PW + "Binding"
TWIN_KIND = PW + "TwinKind"
POSITION = PW + "Position"
TIME_ZONE = PW + "TimeZone"
WINDOW = PW + "Window"
HEALTH = PW + "Health"
PREDICT = PW + "Predict"
RUL = PW + "RemainingUsefulLife"
RULES_SUBMODEL = PW + "Rules"
RULE = PW + "Rule"
NOTIFICATION = PW + "Notification"
# Qualifier carrying a name that is not a valid idShort (e.g. a property called 'rated power').
NAME_QUALIFIER = "plantwin:name"

# idShorts of the submodels (a reader also finds them by semantic id).
SUBMODEL_ID_SHORTS = {
    PLANT_SUBMODEL: "Plant",
    HIERARCHY_SUBMODEL: "HierarchicalStructures",
    NAMEPLATE_SUBMODEL: "Nameplate",
    PROPERTIES_SUBMODEL: "Properties",
    SIGNALS_SUBMODEL: "Signals",
    STATES_SUBMODEL: "States",
    COMMANDS_SUBMODEL: "Commands",
    BINDINGS_SUBMODEL: "Bindings",
    RULES_SUBMODEL: "Rules",
}

# Plant file format version and the AAS text language: plant files carry no language, so
# every text is tagged English.
LANGUAGE = "en"
