"""Form fields shared by every blueprint's forms."""
import wtforms
from flask_babel import gettext
from markupsafe import Markup, escape
from wtforms import widgets


class QuickSelect(widgets.Select):
    """WTForms' select widget, writing a plain option without its attribute builder.

    A list of 290 municipalities or a thousand companies otherwise costs 15–50 ms a page; the markup
    is the same, and an option with attributes of its own goes the usual way.
    """

    @classmethod
    def render_option(cls, choice, **kwargs):
        if choice.render_kw or kwargs or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        # Both value and label are escaped just above and here; the rest is literal.
        return Markup(f'<option {selected}value="{escape(choice.value)}">{label}</option>')  # nosec B704


class SelectField(wtforms.SelectField):
    widget = QuickSelect()


class SelectMultipleField(wtforms.SelectMultipleField):
    widget = QuickSelect(multiple=True)

    def process_formdata(self, valuelist):
        # An empty value is no choice; one that is not an id gets a plain message (WTForms' own Swedish one
        # reads "kunde inte coerca:s").
        try:
            self.data = [self.coerce(value) for value in valuelist if value != ""]
        except ValueError as error:
            self.data = None
            raise ValueError(gettext("Choose from the list.")) from error
