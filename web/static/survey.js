// Optional help on the survey's screens; every page works without it. Stops ticking more options
// than a question takes, counts the characters of a comment, and reads screens aloud.
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
// Read aloud: a button beside each question (and one for a screen without questions) reads its
// text and options with the phone's own speech synthesis — nothing is downloaded and no other
// site is asked. The button appears only when the browser has a voice that can read the page:
// one of its language, or for any language but English a Vietnamese one (the minority languages'
// scripts are Vietnamese letters). Without JavaScript or without such a voice there is no button.
(function () {
  var synth = window.speechSynthesis;
  var Utterance = window.SpeechSynthesisUtterance;
  if (!synth || typeof synth.speak !== 'function' || typeof Utterance !== 'function') return;
  var root = document.documentElement;
  var lang = (root.getAttribute('lang') || 'vi').toLowerCase();
  var label = document.body.getAttribute('data-read') || 'Nghe đọc';
  function primary(tag) { return String(tag || '').toLowerCase().replace('_', '-').split('-')[0]; }
  function voiceFor(voices) {
    function find(code) {
      for (var i = 0; i < voices.length; i++) if (primary(voices[i].lang) === code) return voices[i];
      return null;
    }
    return find(lang) || (lang !== 'en' ? find('vi') : null);
  }
  function clean(s) { return String(s || '').replace(/\s+/g, ' ').trim(); }
  function sentence(s) { s = clean(s); return s && !/[.?!:…]$/.test(s) ? s + '.' : s; }
  // What a question says: its text, then each option in order.
  function textOf(box) {
    var head = box.querySelector('legend, .qtext');
    var parts = [sentence(head ? head.textContent : '')];
    box.querySelectorAll('.opt:not(.pass) span, .face span, .answered').forEach(function (o) { parts.push(sentence(o.textContent)); });
    return parts.filter(Boolean).join(' ');
  }
  function screenText(box) {
    var parts = [];
    box.querySelectorAll('h1, h2, p:not(.progress):not(.saved)').forEach(function (e) {
      if (box.classList.contains('reply') || !e.closest('.reply')) parts.push(sentence(e.textContent));
    });
    return parts.filter(Boolean).join(' ');
  }
  function button(read) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'speak';
    b.textContent = label;
    b.addEventListener('click', function () {
      var voice = voiceFor(synth.getVoices() || []);
      if (!voice) return;
      var u = new Utterance(read());
      u.lang = voice.lang;
      try { u.voice = voice; } catch (e) { /* a voice the engine no longer lists: its language is enough */ }
      u.rate = 0.9;
      synth.cancel();
      synth.speak(u);
    });
    return b;
  }
  var done = false;
  function setup() {
    if (done || !voiceFor(synth.getVoices() || [])) return;
    done = true;
    var main = document.querySelector('main');
    if (!main) return;
    var questions = main.querySelectorAll('fieldset.quick, .q');
    if (questions.length) {
      questions.forEach(function (q) {
        var head = q.querySelector('legend, .qtext');
        var b = button(function () { return textOf(q); });
        if (head && head.nextSibling) head.parentNode.insertBefore(b, head.nextSibling); else q.insertBefore(b, q.firstChild);
      });
    } else {
      var h1 = main.querySelector('h1');
      var b = button(function () { return screenText(main); });
      if (h1) h1.insertAdjacentElement('afterend', b); else main.insertBefore(b, main.firstChild);
    }
    main.querySelectorAll('.reply').forEach(function (r) {
      var h = r.querySelector('h2');
      var b = button(function () { return screenText(r); });
      if (h) h.insertAdjacentElement('afterend', b); else r.insertBefore(b, r.firstChild);
    });
  }
  setup();
  if (!done && typeof synth.addEventListener === 'function') synth.addEventListener('voiceschanged', setup);
})();
// Keep a half-filled screen: when the resident leaves the page without sending it (switches to
// another app, locks the phone, closes the tab), what they ticked is sent as an addition, so it is
// stored as if they had pressed "send". Sending the form itself does not trigger it.
(function () {
  var form = document.querySelector('form[data-answers]');
  if (!form || typeof navigator.sendBeacon !== 'function' || typeof Blob !== 'function') return;
  var url = form.getAttribute('data-answers');
  var sent = {};
  var submitting = false;
  form.addEventListener('submit', function () { submitting = true; });
  function pending() {
    var answers = {};
    var n = 0;
    form.querySelectorAll('input:checked, textarea').forEach(function (i) {
      if (!i.name || sent[i.name] || i.disabled) return;
      if (i.value === '') return;
      if (i.type === 'radio') { answers[i.name] = +i.value; n++; }
      else if (i.type === 'checkbox') { (answers[i.name] = answers[i.name] || []).push(+i.value); n++; }
      else if (i.value.trim()) { answers[i.name] = i.value; n++; }
    });
    return n ? answers : null;
  }
  function leave() {
    if (submitting) return;
    var answers = pending();
    if (!answers) return;
    var body = new Blob([JSON.stringify({ answers: answers })], { type: 'application/json' });
    if (navigator.sendBeacon(url, body)) Object.keys(answers).forEach(function (k) { sent[k] = true; });
  }
  document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'hidden') leave(); });
  window.addEventListener('pagehide', leave);
})();
