// Optional help on screens with a multi-choice or a comment; every page works without it.
// Stops ticking more options than a question takes, and counts the characters of a comment.
document.querySelectorAll('[data-max]').forEach(function (box) {
  var max = +box.getAttribute('data-max');
  var inputs = box.querySelectorAll('input[type=checkbox]');
  function update() {
    var n = box.querySelectorAll('input:checked').length;
    inputs.forEach(function (i) { i.disabled = !i.checked && n >= max; });
  }
  inputs.forEach(function (i) { i.addEventListener('change', update); });
  update();
});
document.querySelectorAll('textarea[maxlength]').forEach(function (t) {
  var out = document.createElement('p');
  out.className = 'counter';
  out.setAttribute('aria-live', 'polite');
  t.insertAdjacentElement('afterend', out);
  function update() { out.textContent = t.value.length + ' / ' + t.getAttribute('maxlength'); }
  t.addEventListener('input', update);
  update();
});
