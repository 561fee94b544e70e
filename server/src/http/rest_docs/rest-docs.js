// Starts Swagger UI on the gateway's own OpenAPI document (a file, not an inline script: the
// page's Content-Security-Policy allows scripts from this origin only).
window.SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#rest-reference',
  deepLinking: true,
  // Swagger UI would otherwise ask an outside service to validate the document.
  validatorUrl: null,
});
