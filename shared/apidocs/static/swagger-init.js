// Starts Swagger UI (swagger-ui-bundle.js, served beside this file) on the OpenAPI document the page names.
(function () {
  var box = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: box.getAttribute("data-spec-url"), dom_id: "#swagger-ui", deepLinking: true,
                           validatorUrl: null });  // no badge fetched from the validator's site
})();
