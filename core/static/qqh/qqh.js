// Search-as-you-type pickers: <select class="qqh-picker" data-endpoint="...">
// ask the server for at most 20 matches instead of listing every unit.
$(function () {
  $("select.qqh-picker").each(function () {
    var el = $(this);
    el.select2({
      theme: "bootstrap",
      allowClear: true,
      placeholder: el.data("placeholder") || "",
      minimumInputLength: 0,
      ajax: {
        url: el.data("endpoint"),
        dataType: "json",
        delay: 200,
        data: function (params) { return { q: params.term || "" }; },
        processResults: function (data) { return { results: data.results || [] }; }
      }
    });
  });
});
