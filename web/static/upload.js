// Province upload page: sends each chosen export file to POST /api/v1/province/exports with the
// signed-in province account's session (same-origin cookie) and lists what the service said.
(function () {
  var form = document.getElementById('upload');
  var list = document.getElementById('results');
  function say(name, ok, text) {
    var li = document.createElement('li');
    li.className = ok ? 'ok' : 'refused';
    li.textContent = name + ': ' + text;
    list.appendChild(li);
  }
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    list.textContent = '';
    var files = document.getElementById('files').files;
    Array.prototype.forEach.call(files, function (file) {
      file.text().then(function (body) {
        return fetch('/api/v1/province/exports', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json' },
          body: body
        });
      }).then(function (res) {
        return res.json().then(function (j) {
          if (res.ok) {
            say(file.name, true, 'đã nhập ' + j.imported.map(function (i) { return i.unit + ' ' + i.period; }).join(', '));
          } else {
            say(file.name, false, 'bị từ chối — ' + j.message);
          }
        });
      }).catch(function (err) { say(file.name, false, 'lỗi: ' + err); });
    });
  });
})();
