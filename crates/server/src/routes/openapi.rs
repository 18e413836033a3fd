//! The answers every operation of a kind can give, added to the OpenAPI document once
//! instead of in each operation: `401` where credentials are needed (and `404` for the
//! operator API, which is closed without an operator token), `400` where parameters or a
//! JSON body are read (with `413` and `415` for the body), `412` where tus requests need
//! `Tus-Resumable`. The document then lists what the server really answers (the
//! schema-driven fuzz test in CI holds it to that).

use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};

/// Add the answers operations of a kind share, where an operation does not list them.
pub fn complete_responses(openapi: &mut OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        let tus = path.starts_with("/api/v1/uploads") && !path.ends_with("/original");
        let operations = [
            (false, &mut item.get),
            (false, &mut item.put),
            (true, &mut item.post),
            (true, &mut item.delete),
            (false, &mut item.options),
            (true, &mut item.head),
            (true, &mut item.patch),
        ];
        for (tus_request, operation) in operations {
            let Some(operation) = operation else {
                continue;
            };
            complete(operation);
            // tus requests (not the status and original answers) need `Tus-Resumable`.
            if tus && tus_request {
                add(
                    operation,
                    "412",
                    "Not tus 1.0.0: send `Tus-Resumable: 1.0.0`",
                );
            }
        }
    }
}

fn complete(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    if secured {
        add(
            operation,
            "401",
            "No valid session, device or operator token",
        );
    }
    let operator = operation.security.iter().flatten().any(|requirement| {
        serde_json::to_value(requirement).is_ok_and(|v| v.get("operator").is_some())
    });
    if operator {
        add(
            operation,
            "404",
            "The operator API is closed (no `--operator-token`)",
        );
    }
    if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        add(operation, "400", "A parameter is not valid");
    }
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    if json_body {
        add(
            operation,
            "400",
            "The body is not valid JSON for this operation",
        );
        add(operation, "413", "The body is larger than allowed");
        add(operation, "415", "The body is not `application/json`");
    }
}

fn add(operation: &mut Operation, status: &str, description: &str) {
    let responses = &mut operation.responses.responses;
    if !responses.contains_key(status) {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        responses.insert(status.to_owned(), response.into());
    }
}
