// The clerk's camera: grab a frame twice a second and ask this counter service (not the
// provider) to read and verify it. Everything stays on the counter's machine.
'use strict';
(() => {
  const video = document.getElementById('camera');
  const canvas = document.getElementById('frame');
  const result = document.getElementById('result');
  const start = document.getElementById('start');
  if (!video || !start) return;
  let busy = false;

  function show(verdict) {
    const items = (list) => list.map((x) => `<li>${x}</li>`).join('');
    const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
    const fields = verdict.fields.map((f) => `<dt>${esc(f.label)}</dt><dd>${esc(f.value)}</dd>`).join('');
    result.innerHTML = (verdict.valid
      ? '<p class="verdict ok">✓ 有效 VALID</p>'
      : '<p class="verdict bad">✗ 无效 NOT VALID</p>')
      + (verdict.failures.length ? `<ul class="big bad">${items(verdict.failures.map(esc))}</ul>` : '')
      + (fields ? `<dl class="facts big">${fields}</dl>` : '');
  }

  async function scan() {
    if (busy || video.readyState < 2) return;
    busy = true;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d').drawImage(video, 0, 0);
    const blob = await new Promise((ok) => canvas.toBlob(ok, 'image/png'));
    const response = await fetch('/verify', {
      method: 'POST', body: blob, headers: { 'X-CSRFToken': result.dataset.csrf },
    });
    const verdict = await response.json();
    if (!verdict.failures.includes('未识别到二维码 No QR code found')) show(verdict);
    busy = false;
  }

  start.addEventListener('click', async () => {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    await video.play();
    setInterval(() => scan().catch(() => { busy = false; }), 500);
  });
})();
