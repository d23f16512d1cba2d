"""Strings Flask-AppBuilder 5.3.0 shows on our pages that its own catalog
leaves without Chinese. Listed here so that ``bin/catalogs`` extracts them
into core's catalog, which is merged after FAB's and so supplies them.
tests/test_i18n.py crawls the pages and fails on any English that remains."""

from flask_babel import lazy_gettext as _l

FAB_MESSAGES = (
    _l("Add"),
    _l("Cancel"),
    _l("Delete"),
    _l("Are you sure you want to delete this item?"),
    _l("List Groups"),
    _l("Add Group"),
    _l("Edit Group"),
    _l("Show Group"),
    _l("Name"),
    _l("Label"),
    _l("Description"),
    _l("Roles"),
    _l("Users"),
    _l("Groups"),
    _l("User"),
    _l("Edit User Information"),
    _l("It's not a good policy to remove a user, just make it inactive"),
    _l("The user group on the application, this will associate with a list of roles associated with the group"),
    _l("The user's password for authentication"),
    # the list search's operators (FAB's catalog has "以开始" or nothing)
    _l("Starts with"),
    _l("Not Starts with"),
    _l("Ends with"),
    _l("Not Ends with"),
    _l("Contains"),
    _l("Not Contains"),
    _l("Equal to"),
    _l("Not Equal to"),
    _l("Greater than"),
    _l("Smaller than"),
    _l("In"),
    _l("Not In"),
    _l("Relation"),
    _l("No Relation"),
    _l("Relation as Many"),
)
