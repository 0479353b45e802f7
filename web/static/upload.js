// Province upload page: sends every chosen export file (JSON, CSV or XLSX) in one
// multipart/form-data request to POST /api/v1/province/exports with the signed-in account's
// session (same-origin cookie), then lists each file's outcome as the service named it. All or
// none: when one file is refused, none is stored, and the page says so.
(function () {
  var form = document.getElementById('upload');
  var input = document.getElementById('files');
  var rows = document.querySelector('#results tbody');
  var summary = document.getElementById('summary');
  var link = document.getElementById('to-ranking');
  var STATUS = { imported: 'Đã nhập', refused: 'Bị từ chối', not_stored: 'Không lưu' };
  var FORMAT = { json: 'JSON', csv: 'CSV', xlsx: 'Excel (XLSX)' };

  function row(file, format, unit, period, status, reason) {
    var tr = document.createElement('tr');
    tr.className = status;
    tr.dataset.status = status;
    [file, FORMAT[format] || '—', unit || '—', period || '—', STATUS[status] || status, reason || ''].forEach(function (text) {
      var td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    });
    rows.appendChild(tr);
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var files = Array.prototype.slice.call(input.files);
    if (files.length === 0) return;
    var data = new FormData();
    files.forEach(function (f) { data.append('files', f, f.name); });
    rows.textContent = '';
    summary.className = '';
    summary.textContent = 'Đang kiểm tra ' + files.length + ' tệp…';
    fetch('/api/v1/province/exports', { method: 'POST', credentials: 'same-origin', body: data })
      .then(function (res) {
        return res.json().then(function (j) { return { status: res.status, body: j }; });
      })
      .then(function (r) {
        var b = r.body;
        (b.files || []).forEach(function (f) {
          var why = f.reason ? f.reason.vi + ' (' + f.reason.en + ')' : '';
          row(f.file, f.format, f.unit, f.period, f.status, why);
        });
        if (r.status === 201) {
          summary.className = 'notice';
          summary.textContent = 'Đã nhập ' + b.files.length + ' tệp.';
          // one period imported: its ranking; several: the ranking opens on the latest with imports
          var periods = b.imported.map(function (i) { return i.period; });
          var one = periods.every(function (p) { return p === periods[0]; });
          link.href = one && periods.length ? '/province/ranking?period=' + encodeURIComponent(periods[0]) : '/province/ranking';
          link.textContent = one && periods.length ? 'Xem bảng xếp hạng kỳ ' + periods[0] : 'Xem bảng xếp hạng';
        } else if (r.status === 422) {
          summary.className = 'alert';
          summary.textContent = 'Không tệp nào được lưu: có tệp bị từ chối (lý do trong bảng). Bỏ hoặc sửa tệp đó rồi nhập lại.';
        } else {
          // too large (413), no file, not signed in …: no file was stored; each chosen file says so
          var vi = r.status === 413 ? 'tệp hoặc lần nhập quá lớn' : 'lần nhập không thực hiện được';
          files.forEach(function (f) { row(f.name, null, null, null, 'not_stored', vi + ' (' + b.message + ')'); });
          summary.className = 'alert';
          summary.textContent = 'Không tệp nào được lưu: ' + vi + '.';
        }
      })
      .catch(function (err) {
        summary.className = 'alert';
        summary.textContent = 'Không gửi được tệp: ' + err + '. Không tệp nào được lưu.';
      });
  });
})();
