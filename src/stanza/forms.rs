//! XEP-0004 data forms, as far as the focus uses them: reading the MUC owner
//! configuration form (and room information such as
//! `muc#roominfo_meetingId`), and writing the `submit` form that makes a room
//! non-anonymous.
//!
//! Reading is lenient, because the form comes from the server and a field we
//! do not understand must not cost us the room: fields without `var` are
//! skipped, unknown field types are kept, values with unknown entities read
//! as empty. Names and values borrow the frame unless they held entities.

use std::borrow::Cow;

use super::StanzaParseError;
use crate::xml::{El, XmlWriter, ns};

/// The hidden field that names a form's schema.
pub const FORM_TYPE: &str = "FORM_TYPE";

/// One `<field/>` of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field name (`var`).
    pub var: Cow<'a, str>,
    /// The field type (`type`: `boolean`, `list-single`, `hidden`…), if given.
    pub ty: Option<Cow<'a, str>>,
    /// The `<value/>`s, in document order.
    pub values: Vec<Cow<'a, str>>,
}

/// A parsed `<x xmlns='jabber:x:data'/>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataForm<'a> {
    /// The form type (`form`, `submit`, `result`, `cancel`); `None` when
    /// absent.
    pub ty: Option<Cow<'a, str>>,
    /// Fields with a `var`, in document order.
    pub fields: Vec<Field<'a>>,
}

impl<'a> DataForm<'a> {
    /// Reads a form element; anything but `<x xmlns='jabber:x:data'/>` is
    /// an error, anything inside it is read leniently.
    pub fn parse(x: El<'a>) -> Result<DataForm<'a>, StanzaParseError> {
        if !x.is("x", ns::DATA_FORMS) {
            return Err(StanzaParseError::NotA("a data form"));
        }
        let fields = x
            .children()
            .filter(|c| c.is("field", ns::DATA_FORMS))
            .filter_map(|f| {
                Some(Field {
                    var: f.attr("var")?,
                    ty: f.attr("type"),
                    values: f
                        .children()
                        .filter(|v| v.is("value", ns::DATA_FORMS))
                        .map(|v| v.text())
                        .collect(),
                })
            })
            .collect();
        Ok(DataForm {
            ty: x.attr("type"),
            fields,
        })
    }

    /// The first data form among `parent`'s children (an IQ `<query/>`),
    /// if any.
    pub fn find(parent: El<'a>) -> Option<DataForm<'a>> {
        parent
            .children()
            .find(|c| c.is("x", ns::DATA_FORMS))
            .and_then(|x| DataForm::parse(x).ok())
    }

    /// The value of the hidden `FORM_TYPE` field, if any.
    pub fn form_type(&self) -> Option<&str> {
        self.field(FORM_TYPE)
    }

    /// The first field named `var`.
    pub fn get(&self, var: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.var == var)
    }

    /// The first value of the first field named `var`.
    pub fn field(&self, var: &str) -> Option<&str> {
        self.get(var)?.values.first().map(|v| &**v)
    }

    /// All values of the first field named `var` (empty when absent).
    pub fn values(&self, var: &str) -> &[Cow<'a, str>] {
        self.get(var).map_or(&[], |f| &f.values)
    }

    /// The first value of `var` read as an XEP-0004 boolean: `1`/`true` and
    /// `0`/`false` (ASCII case ignored, surrounding whitespace trimmed);
    /// `None` when absent or anything else. Jicofo reads these with
    /// Kotlin's `toBoolean()`, which only knows `true`; Prosody writes
    /// booleans as `1`/`0`, so the stricter reading would miss them.
    pub fn bool_field(&self, var: &str) -> Option<bool> {
        let v = self.field(var)?.trim();
        if v == "1" || v.eq_ignore_ascii_case("true") {
            Some(true)
        } else if v == "0" || v.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    }
}

/// The first value of the first field named `var` in the form `x`, as
/// [`DataForm::field`] reads it, without building the form: for a caller
/// that wants one field of a long form (the meeting id of the MUC owner
/// form) and nothing else. `None` when `x` is not a data form.
pub fn field_value<'a>(x: El<'a>, var: &str) -> Option<Cow<'a, str>> {
    if !x.is("x", ns::DATA_FORMS) {
        return None;
    }
    let field = x
        .children()
        .filter(|c| c.is("field", ns::DATA_FORMS))
        .find(|f| f.attr("var").is_some_and(|v| v == var))?;
    field
        .children()
        .find(|v| v.is("value", ns::DATA_FORMS))
        .map(|v| v.text())
}

/// Writes `<x xmlns='jabber:x:data' type='submit'>` with `FORM_TYPE` first
/// (when given) and then one single-valued field per pair, without `type`
/// attributes (the receiver knows the types from the form it sent).
pub fn write_submit(w: &mut XmlWriter<'_>, form_type: Option<&str>, fields: &[(&str, &str)]) {
    w.start_ns("x", ns::DATA_FORMS).attr("type", "submit");
    let all = form_type.map(|t| (FORM_TYPE, t)).into_iter();
    for (var, value) in all.chain(fields.iter().copied()) {
        w.start("field").attr("var", var);
        w.text_element("value", value);
        w.end();
    }
    w.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Parser;

    fn with<R>(xml: &str, f: impl FnOnce(El<'_>) -> R) -> R {
        let mut p = Parser::new();
        let doc = p.parse(xml.as_bytes(), ns::CLIENT).unwrap();
        f(doc.root())
    }

    /// An owner form as Prosody (with the Jitsi modules) sends it, trimmed.
    const OWNER_FORM: &str = "<query xmlns='http://jabber.org/protocol/muc#owner'>\
        <x xmlns='jabber:x:data' type='form'><title>Configuration for room</title>\
        <field type='hidden' var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
        <field type='fixed'><value>no var: skipped</value></field>\
        <field type='text-single' label='Title' var='muc#roomconfig_roomname'/>\
        <field type='list-single' var='muc#roomconfig_whois'><value>moderators</value>\
        <option label='Moderators only'><value>moderators</value></option>\
        <option label='Anyone'><value>anyone</value></option></field>\
        <field type='text-single' var='muc#roominfo_meetingId'><value>9f2c&amp;1</value></field>\
        <field type='boolean' var='muc#roominfo_isbreakout'><value>1</value></field>\
        <field type='boolean' var='muc#roomconfig_persistentroom'><value>false</value></field>\
        <field type='list-multi' var='muc#roomconfig_presencebroadcast'>\
        <value>moderator</value><value>participant</value></field>\
        <field type='boolean' var='odd'><value>yes</value></field>\
        </x></query>";

    #[test]
    fn reads_the_owner_form() {
        with(OWNER_FORM, |q| {
            let form = DataForm::find(q).unwrap();
            assert_eq!(form.ty.as_deref(), Some("form"));
            assert_eq!(form.form_type(), Some(ns::MUC_ROOMCONFIG));
            assert_eq!(form.fields.len(), 8, "the field without var is skipped");
            assert_eq!(form.field("muc#roomconfig_roomname"), None);
            assert_eq!(
                form.get("muc#roomconfig_roomname").unwrap().ty.as_deref(),
                Some("text-single")
            );
            // Option values are not field values.
            assert_eq!(form.values("muc#roomconfig_whois").len(), 1);
            assert_eq!(form.field("muc#roomconfig_whois"), Some("moderators"));
            assert_eq!(form.field("muc#roominfo_meetingId"), Some("9f2c&1"));
            assert_eq!(form.bool_field("muc#roominfo_isbreakout"), Some(true));
            assert_eq!(
                form.bool_field("muc#roomconfig_persistentroom"),
                Some(false)
            );
            assert_eq!(form.bool_field("odd"), None);
            assert_eq!(form.bool_field("absent"), None);
            assert_eq!(
                form.values("muc#roomconfig_presencebroadcast"),
                ["moderator", "participant"]
            );
            assert!(form.values("absent").is_empty());
        });
    }

    #[test]
    fn one_field_reads_as_the_whole_form_does() {
        let odd = "<x xmlns='jabber:x:data'><field var='a'><value xmlns='urn:x'>n</value>\
             <value>&bogus;</value></field><field var='a'><value>second</value></field>\
             <field var='e&amp;'><value>entity</value></field><field var='none'/></x>";
        for xml in [OWNER_FORM, odd] {
            with(xml, |el| {
                let x = el
                    .children()
                    .find(|c| c.is("x", ns::DATA_FORMS))
                    .unwrap_or(el);
                let form = DataForm::parse(x).unwrap();
                for f in &form.fields {
                    assert_eq!(field_value(x, &f.var).as_deref(), form.field(&f.var));
                }
                assert_eq!(field_value(x, "absent"), None);
            });
        }
        with(OWNER_FORM, |q| {
            assert_eq!(field_value(q, FORM_TYPE), None, "not a form: the query");
        });
    }

    #[test]
    fn not_a_form() {
        with("<x xmlns='jabber:x:other'/>", |x| {
            assert_eq!(
                DataForm::parse(x).unwrap_err(),
                StanzaParseError::NotA("a data form")
            );
        });
        with(
            "<query xmlns='http://jabber.org/protocol/muc#owner'/>",
            |q| {
                assert_eq!(DataForm::find(q), None);
            },
        );
    }

    #[test]
    fn lenient_with_odd_content() {
        // A value in the wrong namespace, a bad entity, nested junk.
        with(
            "<x xmlns='jabber:x:data'><field var='a'><value xmlns='urn:x'>n</value>\
             <value>&bogus;</value><junk><value>j</value></junk></field>\
             <field var='a'><value>second</value></field></x>",
            |x| {
                let form = DataForm::parse(x).unwrap();
                assert_eq!(form.ty, None);
                assert_eq!(form.values("a"), [""]);
                assert_eq!(form.fields.len(), 2);
                assert_eq!(form.field("a"), Some(""), "the first field wins");
            },
        );
    }

    #[test]
    fn writes_a_submit_form() {
        let mut out = Vec::new();
        write_submit(
            &mut XmlWriter::new(&mut out),
            Some(ns::MUC_ROOMCONFIG),
            &[("muc#roomconfig_whois", "anyone"), ("x", "<&'>")],
        );
        let xml = String::from_utf8(out).unwrap();
        assert_eq!(
            xml,
            "<x xmlns='jabber:x:data' type='submit'>\
             <field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>\
             <field var='muc#roomconfig_whois'><value>anyone</value></field>\
             <field var='x'><value>&lt;&amp;'&gt;</value></field></x>"
        );
        with(&xml, |x| {
            let form = DataForm::parse(x).unwrap();
            assert_eq!(form.ty.as_deref(), Some("submit"));
            assert_eq!(form.field("x"), Some("<&'>"));
        });

        let mut out = Vec::new();
        write_submit(&mut XmlWriter::new(&mut out), None, &[]);
        assert_eq!(out, b"<x xmlns='jabber:x:data' type='submit'/>");
    }
}
