//! The API's answers before they reach the socket: an XML or text body with
//! its status, and the failures the API gives, with the reference's message
//! keys and texts.

use crate::xml;

pub const XML: &str = "text/xml; charset=utf-8";
pub const TEXT: &str = "text/plain; charset=utf-8";

/// An answer, before it is written to the socket.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Reply {
    /// A 200 XML answer.
    pub fn xml(body: String) -> Reply {
        Reply {
            status: 200,
            content_type: XML,
            body,
        }
    }

    /// A plain-text answer.
    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            content_type: TEXT,
            body: body.to_owned(),
        }
    }

    /// A `FAILED` XML answer with a key and a message.
    pub fn failure(key: &str, message: &str) -> Reply {
        Reply::xml(xml::failure(key, message))
    }

    /// A `SUCCESS` XML answer around `inner`.
    pub fn success(inner: &str) -> Reply {
        Reply::xml(xml::success(inner))
    }
}

/// A failure from the table below.
pub fn fail(m: (&str, &str)) -> Reply {
    Reply::failure(m.0, m.1)
}

/// The failures the API answers, with the reference's keys and texts.
pub mod msg {
    pub const CHECKSUM: (&str, &str) = (
        "checksumError",
        "You did not pass the checksum security check.",
    );
    pub const NO_CALLBACK: (&str, &str) = (
        "missingParamCallbackURL",
        "You must specify a callbackURL in the parameters.",
    );
    pub const NO_HOOK_ID: (&str, &str) = (
        "missingParamHookID",
        "You must specify a hookID in the parameters.",
    );
    pub const NO_MEETING_ID: (&str, &str) = (
        "missingParamMeetingID",
        "You must specify a meetingID in the parameters.",
    );
    pub const NO_SUBSCRIPTION_ID: (&str, &str) = (
        "missingParamSubscriptionID",
        "You must specify a subscriptionID in the parameters.",
    );
    pub const BAD_CALLBACK: (&str, &str) = (
        "invalidCallbackURL",
        "The callbackURL must be an absolute http or https URL.",
    );
    pub const MISSING_HOOK: (&str, &str) =
        ("destroyMissingHook", "The hook informed was not found.");
    pub const MISSING_SUBSCRIPTION: (&str, &str) = (
        "subscriptionNotFound",
        "The subscription informed was not found for this meeting.",
    );
    pub const PERMANENT: (&str, &str) =
        ("destroyHookError", "Permanent hooks cannot be destroyed.");
    pub const CREATE: (&str, &str) = (
        "createHookError",
        "An error happened while creating your hook. Check the logs.",
    );
    pub const DESTROY: (&str, &str) = (
        "destroyHookError",
        "An error happened while removing your hook. Check the logs.",
    );
    pub const UNSUPPORTED: (&str, &str) = ("unsupportedRequest", "This request is not supported.");
    pub const NOT_FOUND: (&str, &str) = ("notFound", "There is no API call at this path.");
    pub const BAD_REQUEST: (&str, &str) = ("badRequest", "The request could not be read.");
    pub const LENGTH_REQUIRED: (&str, &str) = (
        "lengthRequired",
        "A request body must be sent with a Content-Length.",
    );
    pub const TOO_LARGE: (&str, &str) = ("requestTooLarge", "The request body is too large.");
    pub const URI_TOO_LONG: (&str, &str) = ("uriTooLong", "The request URL is too long.");
    pub const HEADERS_TOO_LARGE: (&str, &str) =
        ("headersTooLarge", "The request headers are too large.");
    pub const BUSY: (&str, &str) = ("serviceBusy", "The service is busy; try again.");
    pub const METHOD: (&str, &str) = ("methodNotAllowed", "Only GET requests are supported.");
    /// Cluster mode relays mapped events only.
    pub const CLUSTER_RAW: (&str, &str) = (
        "createHookError",
        "Raw hooks (getRaw=true) are not available behind the load balancer: the BBB servers relay mapped events only. Register the hook without getRaw.",
    );
}
