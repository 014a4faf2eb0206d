//! The wire format: an `XACMLAuthzDecisionQuery` in a SOAP 1.1 envelope
//! (OASIS SAML 2.0 profile of XACML 2.0) with the attributes of the
//! Authorization Interoperability profile 1.1, and the namespace-aware
//! parsing of the answer (`samlp:Response` → `saml:Assertion` →
//! `XACMLAuthzDecisionStatement` → `xacml-context:Response/Result`).

use std::fmt::Write as _;

use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// SOAP 1.1 envelope.
pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SAML 2.0 assertion.
pub const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol.
pub const NS_SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// XACML-SAML protocol (the query).
pub const NS_XACML_SAMLP: &str = "urn:oasis:xacml:2.0:saml:protocol:schema:os";
/// XACML-SAML assertion (the statement).
pub const NS_XACML_SAML: &str = "urn:oasis:xacml:2.0:saml:assertion:schema:os";
/// XACML 2.0 context.
pub const NS_XACML_CTX: &str = "urn:oasis:names:tc:xacml:2.0:context:schema:os";
/// XACML 2.0 policy (obligations).
pub const NS_XACML: &str = "urn:oasis:names:tc:xacml:2.0:policy:schema:os";

/// SAML top-level success.
pub const SAML_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

const STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
const ACCESS_SUBJECT: &str = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject";

/// Subject attribute ids.
pub const A_SUBJECT_X509_ID: &str = "http://authz-interop.org/xacml/subject/subject-x509-id";
/// Issuer of the end-entity certificate.
pub const A_SUBJECT_X509_ISSUER: &str =
    "http://authz-interop.org/xacml/subject/subject-x509-issuer";
/// VO.
pub const A_VO: &str = "http://authz-interop.org/xacml/subject/vo";
/// All FQANs.
pub const A_VOMS_FQAN: &str = "http://authz-interop.org/xacml/subject/voms-fqan";
/// First FQAN.
pub const A_VOMS_PRIMARY_FQAN: &str = "http://authz-interop.org/xacml/subject/voms-primary-fqan";
/// Resource id.
pub const A_RESOURCE_ID: &str = "urn:oasis:names:tc:xacml:1.0:resource:resource-id";
/// Host name of the resource.
pub const A_DNS_HOST_NAME: &str = "http://authz-interop.org/xacml/resource/dns-host-name";
/// Host certificate subject.
pub const A_RESOURCE_X509_ID: &str = "http://authz-interop.org/xacml/resource/resource-x509-id";
/// Host certificate issuer.
pub const A_RESOURCE_X509_ISSUER: &str =
    "http://authz-interop.org/xacml/resource/resource-x509-issuer";
/// Action id.
pub const A_ACTION_ID: &str = "urn:oasis:names:tc:xacml:1.0:action:action-id";
/// Prefix of resource-id values.
pub const RESOURCE_TYPE_PREFIX: &str = "http://authz-interop.org/xacml/resource/resource-type/";
/// Prefix of action-id values.
pub const ACTION_TYPE_PREFIX: &str = "http://authz-interop.org/xacml/action/action-type/";

/// Obligation: uid + primary gid.
pub const O_UIDGID: &str = "http://authz-interop.org/xacml/obligation/uidgid";
/// Obligation: secondary gids.
pub const O_SECONDARY_GIDS: &str = "http://authz-interop.org/xacml/obligation/secondary-gids";
/// Obligation: account name.
pub const O_USERNAME: &str = "http://authz-interop.org/xacml/obligation/username";
/// Assignment: uid.
pub const AA_POSIX_UID: &str = "http://authz-interop.org/xacml/attribute/posix-uid";
/// Assignment: gid.
pub const AA_POSIX_GID: &str = "http://authz-interop.org/xacml/attribute/posix-gid";
/// Assignment: user name.
pub const AA_USERNAME: &str = "http://authz-interop.org/xacml/attribute/username";

/// What the query says about the user and the resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// SAML request ID (must come back as `InResponseTo`).
    pub id: String,
    /// `IssueInstant`, `YYYY-MM-DDTHH:MM:SSZ`.
    pub issue_instant: String,
    /// `saml:Issuer`: the client's host DN, if known.
    pub issuer: Option<String>,
    /// User DN (OpenSSL one-line form).
    pub subject_dn: String,
    /// Issuer of the user's end-entity certificate.
    pub subject_issuer: Option<String>,
    /// VO of the primary FQAN.
    pub vo: Option<String>,
    /// FQANs in order.
    pub fqans: Vec<String>,
    /// Full resource-id URI.
    pub resource_id: String,
    /// Host name.
    pub host_name: Option<String>,
    /// Host certificate subject.
    pub resource_x509_id: Option<String>,
    /// Host certificate issuer.
    pub resource_x509_issuer: Option<String>,
    /// Full action-id URI.
    pub action_id: String,
}

fn attribute(out: &mut String, id: &str, values: &[&str]) {
    if values.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<xacml-context:Attribute AttributeId=\"{}\" DataType=\"{STRING}\">",
        escape(id)
    );
    for v in values {
        let _ = write!(
            out,
            "<xacml-context:AttributeValue>{}</xacml-context:AttributeValue>",
            escape(*v)
        );
    }
    out.push_str("</xacml-context:Attribute>");
}

impl Query {
    /// The SOAP envelope carrying the query.
    pub fn to_xml(&self) -> String {
        let mut s = String::with_capacity(4096);
        let _ = write!(
            s,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <soap:Envelope xmlns:soap=\"{NS_SOAP}\"><soap:Body>\
             <xacml-samlp:XACMLAuthzDecisionQuery xmlns:xacml-samlp=\"{NS_XACML_SAMLP}\" \
             xmlns:saml=\"{NS_SAML}\" xmlns:samlp=\"{NS_SAMLP}\" \
             xmlns:xacml-context=\"{NS_XACML_CTX}\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" \
             InputContextOnly=\"false\" ReturnContext=\"false\">",
            escape(self.id.as_str()),
            escape(self.issue_instant.as_str())
        );
        match &self.issuer {
            Some(i) => {
                let _ = write!(s, "<saml:Issuer>{}</saml:Issuer>", escape(i.as_str()));
            }
            None => s.push_str("<saml:Issuer/>"),
        }
        s.push_str("<xacml-context:Request>");
        let _ = write!(
            s,
            "<xacml-context:Subject SubjectCategory=\"{ACCESS_SUBJECT}\">"
        );
        attribute(&mut s, A_SUBJECT_X509_ID, &[&self.subject_dn]);
        fn opt(o: &Option<String>) -> Vec<&str> {
            o.iter().map(String::as_str).collect()
        }
        attribute(&mut s, A_SUBJECT_X509_ISSUER, &opt(&self.subject_issuer));
        attribute(&mut s, A_VO, &opt(&self.vo));
        let fq: Vec<&str> = self.fqans.iter().map(String::as_str).collect();
        attribute(&mut s, A_VOMS_FQAN, &fq);
        attribute(&mut s, A_VOMS_PRIMARY_FQAN, &fq[..fq.len().min(1)]);
        s.push_str("</xacml-context:Subject><xacml-context:Resource>");
        attribute(&mut s, A_RESOURCE_ID, &[&self.resource_id]);
        attribute(&mut s, A_DNS_HOST_NAME, &opt(&self.host_name));
        attribute(&mut s, A_RESOURCE_X509_ID, &opt(&self.resource_x509_id));
        attribute(
            &mut s,
            A_RESOURCE_X509_ISSUER,
            &opt(&self.resource_x509_issuer),
        );
        s.push_str("</xacml-context:Resource><xacml-context:Action>");
        attribute(&mut s, A_ACTION_ID, &[&self.action_id]);
        s.push_str(
            "</xacml-context:Action><xacml-context:Environment/></xacml-context:Request>\
             </xacml-samlp:XACMLAuthzDecisionQuery></soap:Body></soap:Envelope>",
        );
        s
    }
}

/// One obligation of the answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Obligation {
    /// `ObligationId`.
    pub id: String,
    /// `FulfillOn`.
    pub fulfill_on: String,
    /// `(AttributeId, value)` in order.
    pub assignments: Vec<(String, String)>,
}

/// Everything of the answer we look at, before judging it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// `samlp:Response` seen.
    pub saml_responses: usize,
    /// Its `InResponseTo`.
    pub in_response_to: Option<String>,
    /// Top-level SAML status code.
    pub saml_status: Option<String>,
    /// SOAP fault string (Some when a Fault was present).
    pub fault: Option<String>,
    /// Decision statements seen.
    pub statements: usize,
    /// `Result` elements seen.
    pub results: usize,
    /// The decision text.
    pub decision: Option<String>,
    /// XACML status code.
    pub status_code: Option<String>,
    /// XACML status message.
    pub status_message: Option<String>,
    /// Obligations in order.
    pub obligations: Vec<Obligation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum El {
    Envelope,
    Body,
    Fault,
    FaultString,
    SamlResponse,
    SamlStatus,
    SamlStatusCode,
    Assertion,
    Statement,
    CtxResponse,
    Result,
    Decision,
    CtxStatus,
    CtxStatusCode,
    CtxStatusMessage,
    Obligations,
    Obligation,
    Assignment,
    Other,
}

fn classify(ns: &ResolveResult<'_>, local: &[u8]) -> El {
    let ns: &[u8] = match ns {
        ResolveResult::Bound(n) => n.as_ref(),
        _ => b"",
    };
    let is = |n: &str| ns == n.as_bytes();
    match local {
        b"Envelope" if is(NS_SOAP) => El::Envelope,
        b"Body" if is(NS_SOAP) => El::Body,
        b"Fault" if is(NS_SOAP) => El::Fault,
        b"faultstring" if ns.is_empty() => El::FaultString,
        b"Response" if is(NS_SAMLP) => El::SamlResponse,
        b"Status" if is(NS_SAMLP) => El::SamlStatus,
        b"StatusCode" if is(NS_SAMLP) => El::SamlStatusCode,
        b"Assertion" if is(NS_SAML) => El::Assertion,
        b"XACMLAuthzDecisionStatement" if is(NS_XACML_SAML) => El::Statement,
        b"Response" if is(NS_XACML_CTX) => El::CtxResponse,
        b"Result" if is(NS_XACML_CTX) => El::Result,
        b"Decision" if is(NS_XACML_CTX) => El::Decision,
        b"Status" if is(NS_XACML_CTX) => El::CtxStatus,
        b"StatusCode" if is(NS_XACML_CTX) => El::CtxStatusCode,
        b"StatusMessage" if is(NS_XACML_CTX) => El::CtxStatusMessage,
        // XACML 2.0 puts Obligations in the policy namespace; accept the
        // context namespace too (seen in the wild).
        b"Obligations" if is(NS_XACML) || is(NS_XACML_CTX) => El::Obligations,
        b"Obligation" if is(NS_XACML) || is(NS_XACML_CTX) => El::Obligation,
        b"AttributeAssignment" if is(NS_XACML) || is(NS_XACML_CTX) => El::Assignment,
        _ => El::Other,
    }
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|e| format!("malformed XML attribute: {e}"))?;
        if a.key.as_ref() == name {
            let v = a
                .unescape_value()
                .map_err(|e| format!("malformed XML attribute value: {e}"))?;
            return Ok(Some(v.trim().to_owned()));
        }
    }
    Ok(None)
}

const MAX_DEPTH: usize = 64;

/// Parses a SOAP answer. Structural problems (not XML, too deep, a DTD) are
/// errors; what the answer *says* is judged by [`judge`].
pub fn parse(xml: &str) -> Result<Answer, String> {
    use El::*;
    let mut r = NsReader::from_str(xml);
    r.config_mut().expand_empty_elements = true;
    let mut stack: Vec<El> = Vec::new();
    let mut a = Answer::default();
    let mut text = String::new();
    loop {
        let pos = r.buffer_position();
        let (ns, ev) = r
            .read_resolved_event()
            .map_err(|e| format!("malformed XML after byte {pos}: {e}"))?;
        match ev {
            Event::Start(e) => {
                let el = classify(&ns, e.local_name().as_ref());
                stack.push(el);
                if stack.len() > MAX_DEPTH {
                    return Err("XML nested too deeply".into());
                }
                text.clear();
                match stack.as_slice() {
                    [Envelope, Body, SamlResponse] => {
                        a.saml_responses += 1;
                        a.in_response_to = attr(&e, b"InResponseTo")?;
                    }
                    [Envelope, Body, SamlResponse, SamlStatus, SamlStatusCode] => {
                        a.saml_status = attr(&e, b"Value")?;
                    }
                    [Envelope, Body, Fault] => a.fault = Some(String::new()),
                    [Envelope, Body, SamlResponse, Assertion, Statement] => a.statements += 1,
                    [Envelope, Body, SamlResponse, Assertion, Statement, CtxResponse, Result] => {
                        a.results += 1
                    }
                    [.., Result, CtxStatus, CtxStatusCode] if a.status_code.is_none() => {
                        a.status_code = attr(&e, b"Value")?;
                    }
                    [.., Result, Obligations, Obligation] => a.obligations.push(self::Obligation {
                        id: attr(&e, b"ObligationId")?.unwrap_or_default(),
                        fulfill_on: attr(&e, b"FulfillOn")?.unwrap_or_default(),
                        assignments: Vec::new(),
                    }),
                    [.., Result, Obligations, Obligation, Assignment] => {
                        let id = attr(&e, b"AttributeId")?.unwrap_or_default();
                        if let Some(o) = a.obligations.last_mut() {
                            o.assignments.push((id, String::new()));
                        }
                    }
                    _ => {}
                }
            }
            Event::End(_) => {
                let t = text.trim().to_owned();
                match stack.as_slice() {
                    [Envelope, Body, Fault, FaultString] => a.fault = Some(t),
                    [.., Result, Decision] if a.decision.is_some() => {
                        return Err("more than one Decision".into());
                    }
                    [.., Result, Decision] => a.decision = Some(t),
                    [.., Result, CtxStatus, CtxStatusMessage] => a.status_message = Some(t),
                    [.., Result, Obligations, Obligation, Assignment] => {
                        if let Some((_, v)) = a
                            .obligations
                            .last_mut()
                            .and_then(|o| o.assignments.last_mut())
                        {
                            *v = t;
                        }
                    }
                    _ => {}
                }
                text.clear();
                stack.pop();
            }
            Event::Text(t) => {
                let t = t
                    .unescape()
                    .map_err(|e| format!("malformed XML text: {e}"))?;
                text.push_str(&t);
            }
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::DocType(_) => return Err("DOCTYPE not allowed in the answer".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("truncated XML".into());
    }
    Ok(a)
}

/// What a Permit grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant {
    /// uid and primary gid from `uidgid`.
    pub uidgid: Option<(u32, u32)>,
    /// Secondary gids.
    pub sgids: Vec<u32>,
    /// Account name from `username`.
    pub username: Option<String>,
}

fn number(what: &str, v: &str) -> Result<u32, String> {
    let n: u32 = v
        .parse()
        .map_err(|_| format!("{what} {v:?} is not a number"))?;
    if n == 0 {
        return Err(format!("{what} 0 (root) refused"));
    }
    Ok(n)
}

/// Judges a parsed answer to query `id`: only a Permit whose obligations
/// are all understood yields a [`Grant`]; everything else is an error
/// message (the reason).
pub fn judge(a: &Answer, id: &str) -> Result<Grant, String> {
    if let Some(f) = &a.fault {
        return Err(format!("SOAP fault: {f}"));
    }
    if a.saml_responses != 1 {
        return Err(format!(
            "expected one samlp:Response in the SOAP body, found {}",
            a.saml_responses
        ));
    }
    match a.in_response_to.as_deref() {
        None => return Err("InResponseTo missing".into()),
        Some(r) if r != id => {
            return Err(format!(
                "InResponseTo {r:?} does not match request ID {id:?}"
            ))
        }
        Some(_) => {}
    }
    match a.saml_status.as_deref() {
        Some(SAML_SUCCESS) => {}
        other => return Err(format!("SAML status {}", other.unwrap_or("missing"))),
    }
    if a.statements != 1 || a.results != 1 {
        return Err(format!(
            "expected one XACMLAuthzDecisionStatement with one Result, found {} statement(s), {} result(s)",
            a.statements, a.results
        ));
    }
    let decision = a.decision.as_deref().unwrap_or("");
    if decision != "Permit" {
        let mut m = format!(
            "decision {}",
            if decision.is_empty() {
                "missing"
            } else {
                decision
            }
        );
        if let Some(c) = &a.status_code {
            let _ = write!(m, " (status {c}");
            if let Some(sm) = a.status_message.as_deref().filter(|s| !s.is_empty()) {
                let _ = write!(m, ": {sm}");
            }
            m.push(')');
        }
        return Err(m);
    }
    let mut g = Grant::default();
    for o in &a.obligations {
        // Obligations for another decision do not apply to a Permit.
        if o.fulfill_on != "Permit" {
            if o.fulfill_on == "Deny" {
                continue;
            }
            return Err(format!(
                "obligation {} has FulfillOn {:?}",
                o.id, o.fulfill_on
            ));
        }
        let unexpected = |aid: &str| format!("obligation {} has unknown attribute {aid}", o.id);
        match o.id.as_str() {
            O_UIDGID => {
                let (mut uid, mut gid) = (None, None);
                for (aid, v) in &o.assignments {
                    match aid.as_str() {
                        AA_POSIX_UID if uid.is_none() => uid = Some(number("uid", v)?),
                        AA_POSIX_GID if gid.is_none() => gid = Some(number("gid", v)?),
                        AA_POSIX_UID | AA_POSIX_GID => {
                            return Err(format!("obligation {} repeats {aid}", o.id))
                        }
                        _ => return Err(unexpected(aid)),
                    }
                }
                match (uid, gid) {
                    (Some(u), Some(gr)) if g.uidgid.is_none() => g.uidgid = Some((u, gr)),
                    (Some(_), Some(_)) => return Err("more than one uidgid obligation".into()),
                    _ => {
                        return Err("uidgid obligation without both posix-uid and posix-gid".into())
                    }
                }
            }
            O_SECONDARY_GIDS => {
                if o.assignments.is_empty() {
                    return Err("secondary-gids obligation without a gid".into());
                }
                for (aid, v) in &o.assignments {
                    match aid.as_str() {
                        AA_POSIX_GID => g.sgids.push(number("secondary gid", v)?),
                        _ => return Err(unexpected(aid)),
                    }
                }
            }
            O_USERNAME => {
                let mut name = None;
                for (aid, v) in &o.assignments {
                    match aid.as_str() {
                        AA_USERNAME if name.is_none() && !v.is_empty() => name = Some(v.clone()),
                        _ => return Err(unexpected(aid)),
                    }
                }
                match name {
                    Some(n) if g.username.is_none() => g.username = Some(n),
                    Some(_) => return Err("more than one username obligation".into()),
                    None => return Err("username obligation without a username".into()),
                }
            }
            other => return Err(format!("obligation not understood: {other}")),
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(id: &str, decision: &str, obligations: &str) -> String {
        format!(
            r#"<?xml version="1.0"?>
<S:Envelope xmlns:S="{NS_SOAP}"><S:Body>
<p:Response xmlns:p="{NS_SAMLP}" xmlns:a="{NS_SAML}" InResponseTo="{id}" ID="r1" Version="2.0">
 <p:Status><p:StatusCode Value="{SAML_SUCCESS}"/></p:Status>
 <a:Assertion><x:XACMLAuthzDecisionStatement xmlns:x="{NS_XACML_SAML}">
  <c:Response xmlns:c="{NS_XACML_CTX}"><c:Result>
   <c:Decision>{decision}</c:Decision>
   <c:Status><c:StatusCode Value="urn:oasis:names:tc:xacml:1.0:status:ok"/></c:Status>
   <o:Obligations xmlns:o="{NS_XACML}">{obligations}</o:Obligations>
  </c:Result></c:Response>
 </x:XACMLAuthzDecisionStatement></a:Assertion>
</p:Response></S:Body></S:Envelope>"#
        )
    }

    const UIDGID: &str = r#"<o:Obligation ObligationId="http://authz-interop.org/xacml/obligation/uidgid" FulfillOn="Permit">
 <o:AttributeAssignment AttributeId="http://authz-interop.org/xacml/attribute/posix-uid" DataType="http://www.w3.org/2001/XMLSchema#integer">501</o:AttributeAssignment>
 <o:AttributeAssignment AttributeId="http://authz-interop.org/xacml/attribute/posix-gid" DataType="http://www.w3.org/2001/XMLSchema#integer">502</o:AttributeAssignment>
</o:Obligation>"#;

    #[test]
    fn permit_with_uidgid() {
        let a = parse(&answer("_q1", "Permit", UIDGID)).unwrap();
        let g = judge(&a, "_q1").unwrap();
        assert_eq!(g.uidgid, Some((501, 502)));
    }

    #[test]
    fn namespace_prefixes_do_not_matter_but_namespaces_do() {
        let wrong = answer("_q1", "Permit", UIDGID).replace(NS_XACML_CTX, "urn:other");
        let a = parse(&wrong).unwrap();
        assert!(judge(&a, "_q1").is_err());
    }

    #[test]
    fn in_response_to_checked() {
        let a = parse(&answer("_q2", "Permit", UIDGID)).unwrap();
        let e = judge(&a, "_q1").unwrap_err();
        assert!(e.contains("InResponseTo"), "{e}");
    }

    #[test]
    fn deny_and_unknown_obligation() {
        let a = parse(&answer("_q", "Deny", "")).unwrap();
        assert_eq!(
            judge(&a, "_q").unwrap_err(),
            "decision Deny (status urn:oasis:names:tc:xacml:1.0:status:ok)"
        );
        let o = UIDGID.replace("obligation/uidgid", "obligation/afs-token");
        let a = parse(&answer("_q", "Permit", &o)).unwrap();
        assert!(judge(&a, "_q").unwrap_err().contains("not understood"));
    }

    #[test]
    fn root_refused() {
        let o = UIDGID.replace(">501<", ">0<");
        let a = parse(&answer("_q", "Permit", &o)).unwrap();
        assert!(judge(&a, "_q").unwrap_err().contains("root"));
    }

    #[test]
    fn garbage_and_doctype() {
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<!DOCTYPE x [<!ENTITY e 'x'>]><a/>").is_err());
        let a = parse("not xml at all").unwrap();
        assert!(judge(&a, "_q").is_err());
    }

    #[test]
    fn request_is_escaped() {
        let q = Query {
            id: "_1".into(),
            subject_dn: "/CN=a<b>&\"c\"".into(),
            fqans: vec!["/atlas/Role=x".into(), "/atlas".into()],
            resource_id: format!("{RESOURCE_TYPE_PREFIX}wn"),
            action_id: format!("{ACTION_TYPE_PREFIX}execute-now"),
            ..Query::default()
        };
        let x = q.to_xml();
        assert!(x.contains("/CN=a&lt;b&gt;&amp;&quot;c&quot;"), "{x}");
        assert_eq!(x.matches(A_VOMS_PRIMARY_FQAN).count(), 1);
        // And it is well-formed.
        let mut r = NsReader::from_str(&x);
        loop {
            match r.read_event().unwrap() {
                Event::Eof => break,
                _ => continue,
            }
        }
    }
}
