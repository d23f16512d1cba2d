// Search-as-you-type pickers: <select class="qqh-picker" data-endpoint="...">
// ask the server for at most 20 matches instead of listing every unit.
(function () {
  // select2's messages in the page's language (qqh/base.html writes them)
  var messages = {};
  try { messages = JSON.parse(document.getElementById("qqh-picker-messages").textContent); } catch (e) { messages = {}; }
  var language = {};
  Object.keys(messages).forEach(function (key) {
    language[key] = function () { return messages[key]; };
  });
  function init(el) {
    var $el = $(el);
    if ($el.data("select2")) { return; }
    $el.select2({
      theme: "bootstrap", allowClear: true, width: "100%", language: language,
      placeholder: $el.data("placeholder") || "",
      ajax: {
        url: $el.data("endpoint"), dataType: "json", delay: 200,
        data: function (params) { return { q: params.term || "" }; },
        processResults: function (data) { return { results: data.results || [] }; }
      }
    });
  }
  window.qqhInitPicker = init;
  // FAB's search form clones field HTML when a filter is added: initialise
  // the pickers that appear later too.
  if (window.MutationObserver) {
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) {
        $(m.addedNodes).find("select.qqh-picker").addBack("select.qqh-picker").each(function () { init(this); });
      });
    }).observe(document.documentElement, { childList: true, subtree: true });
  }
  $(function () {
    $("select.qqh-picker").each(function () { init(this); });
  });
})();

// Forms that ask before submitting: <form data-confirm="question"> (no inline
// onsubmit: the Content-Security-Policy runs no inline handlers).
document.addEventListener("submit", function (e) {
  var form = e.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { e.preventDefault(); }
}, true);
