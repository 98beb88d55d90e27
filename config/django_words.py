"""Django's own messages that this project's catalogue words otherwise in Japanese (docs/i18n.md,
"Japanese typography"): Django's Japanese sets ASCII spaces around numbers and names
(「最低 8 文字以上」, 「%(verbose_name)s と」). Listed here so that makemessages keeps them in
locale/ja, which LOCALE_PATHS puts before Django's own catalogues; nothing imports this module."""

from django.utils.translation import gettext_noop, ngettext_lazy

PASSWORD_VALIDATION = [
    ngettext_lazy("Your password must contain at least %(min_length)d character.",
                  "Your password must contain at least %(min_length)d characters.", "min_length"),
    ngettext_lazy("This password is too short. It must contain at least %d character.",
                  "This password is too short. It must contain at least %d characters.", 8),
    gettext_noop("The password is too similar to the %(verbose_name)s."),
]

# A form's label suffix (django.forms.Form.label_suffix, `field.label_tag`): Django's Japanese keeps
# the ASCII colon (「言語:」); a Japanese label ends with the full-width 「：」.
LABEL_SUFFIX = gettext_noop(":")
