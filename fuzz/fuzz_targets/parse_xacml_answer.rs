//! Fuzz the SAML2-XACML2 answer parser and judge
//! (`lcmaps_xacml_client::proto::{parse, judge}`): any text is parsed or
//! refused without a panic; a Permit is only granted with SAML success,
//! one statement, one result, the right `InResponseTo` and never uid or gid
//! 0; a granted answer written out as a PDP writes it is granted the same.
#![no_main]

use lcmaps_xacml_client::proto::{
    self, Grant, AA_POSIX_GID, AA_POSIX_UID, AA_USERNAME, NS_SAML, NS_SAMLP, NS_SOAP, NS_XACML,
    NS_XACML_CTX, NS_XACML_SAML, O_SECONDARY_GIDS, O_UIDGID, O_USERNAME, SAML_SUCCESS,
};
use libfuzzer_sys::fuzz_target;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn obligation(id: &str, assignments: &[(&str, String)]) -> String {
    let mut s = format!("<x:Obligation ObligationId=\"{id}\" FulfillOn=\"Permit\">");
    for (a, v) in assignments {
        s.push_str(&format!(
            "<x:AttributeAssignment AttributeId=\"{a}\">{}</x:AttributeAssignment>",
            escape(v)
        ));
    }
    s.push_str("</x:Obligation>");
    s
}

/// A Permit granting `g`, answering query `id`, as a PDP writes it.
fn render(g: &Grant, id: &str) -> String {
    let mut obligations = String::new();
    if let Some((u, gid)) = g.uidgid {
        obligations.push_str(&obligation(
            O_UIDGID,
            &[
                (AA_POSIX_UID, u.to_string()),
                (AA_POSIX_GID, gid.to_string()),
            ],
        ));
    }
    if !g.sgids.is_empty() {
        let a: Vec<(&str, String)> = g
            .sgids
            .iter()
            .map(|s| (AA_POSIX_GID, s.to_string()))
            .collect();
        obligations.push_str(&obligation(O_SECONDARY_GIDS, &a));
    }
    if let Some(n) = &g.username {
        obligations.push_str(&obligation(O_USERNAME, &[(AA_USERNAME, n.clone())]));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<soap:Envelope xmlns:soap=\"{NS_SOAP}\"><soap:Body>\
<samlp:Response xmlns:samlp=\"{NS_SAMLP}\" xmlns:saml=\"{NS_SAML}\" ID=\"_r\" Version=\"2.0\" InResponseTo=\"{}\">\
<samlp:Status><samlp:StatusCode Value=\"{SAML_SUCCESS}\"/></samlp:Status>\
<saml:Assertion ID=\"_a\" Version=\"2.0\">\
<s:XACMLAuthzDecisionStatement xmlns:s=\"{NS_XACML_SAML}\">\
<c:Response xmlns:c=\"{NS_XACML_CTX}\"><c:Result><c:Decision>Permit</c:Decision>\
<c:Status><c:StatusCode Value=\"urn:oasis:names:tc:xacml:1.0:status:ok\"/></c:Status>\
<x:Obligations xmlns:x=\"{NS_XACML}\">{obligations}</x:Obligations>\
</c:Result></c:Response></s:XACMLAuthzDecisionStatement></saml:Assertion>\
</samlp:Response></soap:Body></soap:Envelope>",
        escape(id)
    )
}

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(answer) = proto::parse(xml) else {
        return;
    };
    // Judge it against the ID it answers (the only one that can be
    // granted) and against another.
    let id = answer.in_response_to.clone().unwrap_or_else(|| "_q".into());
    assert!(proto::judge(&answer, &format!("{id}x")).is_err());
    let Ok(grant) = proto::judge(&answer, &id) else {
        return;
    };
    assert!(answer.fault.is_none());
    assert_eq!(answer.saml_status.as_deref(), Some(SAML_SUCCESS));
    assert_eq!(
        (answer.saml_responses, answer.statements, answer.results),
        (1, 1, 1)
    );
    assert_eq!(answer.decision.as_deref(), Some("Permit"));
    if let Some((u, g)) = grant.uidgid {
        assert!(u != 0 && g != 0);
    }
    assert!(grant.sgids.iter().all(|&g| g != 0));
    assert!(grant.username.as_ref().map_or(true, |n| !n.is_empty()));

    let again = render(&grant, &id);
    let reparsed = proto::parse(&again).unwrap_or_else(|e| panic!("{again}: {e}"));
    let regrant = proto::judge(&reparsed, &id).unwrap_or_else(|e| panic!("{again}: {e}"));
    assert_eq!(grant, regrant, "{again}");
});
