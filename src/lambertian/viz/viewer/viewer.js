// lambertian relighting viewer: WebGL 2, no dependencies, works from file://.
//
// model.js sets window.LAMBERTIAN_VIEWER: the fitted model as one PNG atlas of 8-bit RGB
// tiles (a data: URI, so that file:// pages may upload it to WebGL) with a scale and bias
// per tile and channel: value = byte / 255 * scale + bias. At load the atlas's bytes are
// read back once and repacked so that each pixel's bytes (3 per tile, tile after tile)
// lie side by side in an RGBA32UI texture: 16 bytes per texel, one texelFetch brings a
// whole `ours` pixel (4 tiles, 12 bytes). A CPU rasteriser (SwiftShader) pays mostly per
// texture fetch, so this is what keeps a 612 x 512 frame within its time budget. The relighting below is the
// same math as lambertian.relight.render.relight and .display (Python), term for term:
//   ptm / hsh9 / hsh16 : I_c = sum_k basis_k(l) * coef_kc   (basis: lambertian.relight.basis)
//   ours              : I_c = albedo_c max(0, n.l) max(0, 1 + r . ptm_basis(l))
//                             + specular max(0, m.h)^s [n.l > 0]   (m: the lobe's axis)
//   display           : round(255 * clamp(exposure * I, 0, 1) ^ (1 / 2.2))
(function () {
  'use strict';
  var M = window.LAMBERTIAN_VIEWER;
  var statusEl = document.getElementById('status');
  function say(msg) { statusEl.textContent = msg; }
  var api = { ready: false, error: null };
  window.viewer = api;
  if (!M) { api.error = 'model.js is missing or empty'; say(api.error); return; }

  var GAMMA = 2.2;
  var W = M.width, H = M.height;
  var canvas = document.getElementById('view');
  canvas.width = W; canvas.height = H;
  var gl = canvas.getContext('webgl2', { preserveDrawingBuffer: false, antialias: false,
                                          premultipliedAlpha: false, alpha: false });
  if (!gl) { api.error = 'this browser has no WebGL 2'; say(api.error); return; }
  document.getElementById('title').textContent = M.title + '  (' + M.kind + ', ' +
      M.numbers_per_pixel + ' numbers per pixel)';

  // ---- light bases: mirror lambertian/relight/basis.py --------------------------------
  function ptmBasis(l) { var u = l[0], v = l[1]; return [u * u, v * v, u * v, u, v, 1]; }
  function hshBasis(l, terms) {
    var ct = Math.min(Math.max(l[2], 0), 1), phi = Math.atan2(l[1], l[0]);
    var s = Math.sqrt(Math.max(ct - ct * ct, 0)), PI = Math.PI;
    var w = [1 / Math.sqrt(2 * PI), Math.sqrt(6 / PI) * Math.cos(phi) * s,
             Math.sqrt(3 / (2 * PI)) * (-1 + 2 * ct), Math.sqrt(6 / PI) * s * Math.sin(phi)];
    if (terms > 4) {
      var q = -ct + ct * ct;
      w.push(Math.sqrt(30 / PI) * Math.cos(2 * phi) * q,
             Math.sqrt(30 / PI) * Math.cos(phi) * (-1 + 2 * ct) * s,
             Math.sqrt(5 / (2 * PI)) * (1 - 6 * ct + 6 * ct * ct),
             Math.sqrt(30 / PI) * (-1 + 2 * ct) * s * Math.sin(phi),
             Math.sqrt(30 / PI) * q * Math.sin(2 * phi));
    }
    if (terms > 9) {
      var q2 = -ct + ct * ct, p = 1 - 5 * ct + 5 * ct * ct, s3 = s * s * s;
      w.push(2 * Math.sqrt(35 / PI) * Math.cos(3 * phi) * s3,
             Math.sqrt(210 / PI) * Math.cos(2 * phi) * (-1 + 2 * ct) * q2,
             2 * Math.sqrt(21 / PI) * Math.cos(phi) * s * p,
             Math.sqrt(7 / (2 * PI)) * (-1 + 12 * ct - 30 * ct * ct + 20 * ct * ct * ct),
             2 * Math.sqrt(21 / PI) * s * p * Math.sin(phi),
             Math.sqrt(210 / PI) * (-1 + 2 * ct) * q2 * Math.sin(2 * phi),
             2 * Math.sqrt(35 / PI) * s3 * Math.sin(3 * phi));
    }
    return w;
  }
  function basisWeights(l) {
    // ours: the PTM basis of its diffuse ratio
    var w = M.kind === 'ptm' || M.kind === 'ours' ? ptmBasis(l) : (M.kind.indexOf('hsh') === 0 ?
        hshBasis(l, M.terms) : []);
    while (w.length < 16) w.push(0);
    return w;
  }
  function normalize(v) {
    var n = Math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) || 1;
    return [v[0] / n, v[1] / n, v[2] / n];
  }

  // ---- shaders -------------------------------------------------------------------------
  var T = M.tiles;
  // Byte j of a pixel (tile j / 3, channel j % 3) sits in layer j >> 4 of the packed
  // texture (layers stacked vertically, H rows each), word (j >> 2) & 3, bits 8 (j & 3).
  var LAYERS = Math.ceil(3 * T.count / 16);
  function tileBytes(t) {   // GLSL: tile t's three bytes as a vec3 (0-255)
    var c = [0, 1, 2].map(function (ch) {
      var j = 3 * t + ch;
      return '(q' + (j >> 4) + '.' + 'xyzw'[(j >> 2) & 3] + ' >> ' + 8 * (j & 3) + 'u)';
    });
    return 'vec3(uvec3(' + c.join(', ') + ') & 255u)';
  }
  function tileExpr(t) {   // GLSL: tile t decoded, byte / 255 * scale + bias
    return '(' + tileBytes(t) + ' * u_scale[' + t + '] + u_bias[' + t + '])';
  }
  function auxByte(ch) {
    var j = 3 * T.aux + ch;
    return 'int((q' + (j >> 4) + '.' + 'xyzw'[(j >> 2) & 3] + ' >> ' + 8 * (j & 3) + 'u) & 255u)';
  }
  function withFetches(body) {   // fetch only the layers the code reads (ours: one)
    return body.replace('//FETCHES', Array.apply(null, Array(LAYERS)).map(function (_, li) {
      return body.indexOf('q' + li + '.') < 0 ? '' :
          '  uvec4 q' + li + ' = texelFetch(u_data, ivec2(px.x, px.y + ' + li * H + '), 0);';
    }).join('\n'));
  }
  var RATIO = [];
  T.names.forEach(function (name, i) { if (name.indexOf('diffuse ratio') === 0) RATIO.push(i); });
  var VS = '#version 300 es\nin vec2 a_pos; void main() { gl_Position = vec4(a_pos, 0.0, 1.0); }';
  var FS = [
    '#version 300 es',
    'precision highp float; precision highp int; precision highp usampler2D;',
    '#define NT ' + T.count, '#define NTERMS ' + M.terms,
    '#define KIND_OURS ' + (M.kind === 'ours' ? 1 : 0),
    '#define NEXP ' + Math.max(M.shininess.length, 1),
    'uniform usampler2D u_data;',
    'uniform vec2 u_imageSize; uniform vec2 u_canvasSize;',
    'uniform vec3 u_scale[NT]; uniform vec3 u_bias[NT];',   // scale already / 255
    // Sums over tiles with per-frame weights (the light basis) fold the tiles' scale and
    // bias into the weights (JavaScript, once a frame): sum_k w_k (byte_k s_k + b_k) =
    // sum_k byte_k (w_k s_k) + sum_k w_k b_k. u_tw: one vec3 per tile, u_t0 the constant.
    'uniform vec3 u_tw[' + Math.max(M.terms, RATIO.length, 1) + ']; uniform vec3 u_t0;',
    'uniform vec3 u_light; uniform vec3 u_half;',
    'uniform float u_exps[NEXP];',
    'uniform float u_exposure; uniform float u_ks; uniform float u_alpha;',
    'uniform vec2 u_pan; uniform float u_zoom;',
    'out vec4 fragColor;',
    'float lobe(float nl, float nh, float s) {',
    '  return (nl > 0.0 && nh > 0.0) ? pow(nh, s) : 0.0; }',
    'vec3 show(vec3 c) {',   // pow(0, y) is undefined in GLSL: a tiny floor rounds to 0
    '  vec3 v = clamp(c * u_exposure, 0.0, 1.0);',
    '  return pow(max(v, vec3(1e-12)), vec3(1.0 / ' + GAMMA.toFixed(1) + ')); }',
    // No early returns: a CPU rasteriser shades 4 pixels in lock-step and pays for
    // divergent control flow; outside the image / the mask are selected at the end.
    'void main() {',
    '  vec2 frag = vec2(gl_FragCoord.x, u_canvasSize.y - gl_FragCoord.y);',
    '  vec2 img = (frag - u_pan) / u_zoom;',
    '  bool inside = all(greaterThanEqual(img, vec2(0.0))) && all(lessThan(img, u_imageSize));',
    '  ivec2 px = clamp(ivec2(floor(img)), ivec2(0), ivec2(u_imageSize) - 1);', '//FETCHES',
    '  int aux = ' + auxByte(0) + ';',
    '  vec3 c;',
    '#if !KIND_OURS && MODE == 0',
    '  c = u_t0' + Array.apply(null, Array(M.terms)).map(function (_, k) {
        return ' + ' + tileBytes(k) + ' * u_tw[' + k + ']'; }).join('') + ';',
    '  c = show(c);',
    '#else',
    '  vec3 n = ' + tileExpr(T.normals) + ';',
    '  vec3 a = ' + tileExpr(T.albedo) + ';',
    '  float nl = dot(n, u_light);',
    '  float nh = max(dot(n, u_half), 0.0);',
    '#if MODE == 0',
    '    vec3 sa = ' + tileExpr(T.specular >= 0 ? T.specular : 0) + ';',   // b, m.x, m.y
    '    vec3 ax = vec3(sa.yz, sqrt(max(1.0 - dot(sa.yz, sa.yz), 0.0)));',
    '    float s = u_exps[clamp(aux - 1, 0, NEXP - 1)];',
    '    float ratio = max(u_t0.x' + RATIO.map(function (t, i) {
          return ' + dot(' + tileBytes(t) + ', u_tw[' + i + '])'; }).join('') + ', 0.0);',
    '    c = show(a * (max(nl, 0.0) * ratio) + vec3(sa.x * lobe(nl, max(dot(ax, u_half), 0.0), s)));',
    '#elif MODE == 1',
    '  c = (n + 1.0) * 0.5;',
    '#elif MODE == 2',
    '  c = show(a);',
    '#else',
    '  c = show(a * max(nl, 0.0) + vec3(u_ks * lobe(nl, nh, u_alpha)));',
    '#endif',
    '#endif',
    '  fragColor = !inside ? vec4(0.07, 0.07, 0.07, 1.0) :',
    '      (aux < 1 ? vec4(0.0, 0.0, 0.0, 1.0) : vec4(c, 1.0));',
    '}'].join('\n');
  FS = withFetches(FS);

  function compile(type, src) {
    var s = gl.createShader(type);
    gl.shaderSource(s, src); gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    return s;
  }
  function program(vs, fs) {
    var p = gl.createProgram();
    gl.attachShader(p, compile(gl.VERTEX_SHADER, vs));
    gl.attachShader(p, compile(gl.FRAGMENT_SHADER, fs));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
    return p;
  }
  // One program per mode (the mode a compile-time constant): a CPU rasteriser runs every
  // branch of a shader whose lanes it cannot prove take the same path, so branching on a
  // uniform mode would make the relit image pay for the other modes' code.
  var progs = {}, quad;
  function modeProgram(mode) {
    if (!progs[mode]) {
      progs[mode] = program(VS, FS.replace('#version 300 es\n', '#version 300 es\n#define MODE ' + mode + '\n'));
    }
    return progs[mode];
  }
  try { modeProgram(0); } catch (e) { api.error = 'shader: ' + e.message; say(api.error); return; }
  quad = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, quad);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
  function U(p, name) { return gl.getUniformLocation(p, name); }

  // ---- state -----------------------------------------------------------------------------
  var state = { light: normalize([0.3, 0.3, 0.9]), mode: 'image', exposure: 1.0,
                ks: 0.6, alpha: 40, zoom: 1, pan: [0, 0], yaw: 0.5, pitch: 0.35 };
  api.state = state;
  var MODES = { image: 0, normals: 1, albedo: 2, specular: 3 };
  var texture = null;

  var SCALE = new Float32Array([].concat.apply([], M.scale.map(function (sc) {
    return sc.map(function (v) { return v / 255; }); })));
  // The per-frame weights of the tiles that enter a weighted sum: the polynomial's terms
  // (weights: the basis), or ours's diffuse ratio (weights: its PTM basis; constant 1).
  function tileWeights(l) {
    var b = basisWeights(l), tiles, c = [0, 0, 0];
    if (M.kind === 'ours') { tiles = RATIO; c = [1, 1, 1]; }
    else tiles = Array.apply(null, Array(M.terms)).map(function (_, k) { return k; });
    var w = [];
    tiles.forEach(function (t, i) {
      for (var ch = 0; ch < 3; ch++) {
        // ours: tile i holds ratio terms 3i..3i+2 (one weight per channel of the tile);
        // polynomials: tile k is term k of the three colour channels (one weight).
        var wk = M.kind === 'ours' ? b[3 * i + ch] : b[i];
        w.push(wk * M.scale[t][ch] / 255);
        if (M.kind === 'ours') { c[0] += wk * M.bias[t][ch]; c[1] = c[2] = c[0]; }
        else c[ch] += wk * M.bias[t][ch];
      }
    });
    if (!w.length) w = [0, 0, 0];
    return { w: new Float32Array(w), c: new Float32Array(c) };
  }
  function halfVector(l) { return normalize([l[0], l[1], l[2] + 1]); }

  // Only the mask's bounding box is shaded (a CPU rasteriser pays for every fragment);
  // the rest of the image is black, as the shader would draw it, and the canvas outside
  // the image grey.
  function scissorTo(x0, y0, x1, y1) {   // image-pixel box -> canvas scissor (GL: y up)
    var cx0 = Math.max(0, Math.floor(state.pan[0] + x0 * state.zoom));
    var cy0 = Math.max(0, Math.floor(state.pan[1] + y0 * state.zoom));
    var cx1 = Math.min(W, Math.ceil(state.pan[0] + x1 * state.zoom));
    var cy1 = Math.min(H, Math.ceil(state.pan[1] + y1 * state.zoom));
    gl.scissor(cx0, H - Math.max(cy0, cy1), Math.max(0, cx1 - cx0), Math.max(0, cy1 - cy0));
  }
  function drawImage() {
    var prog = modeProgram(MODES[state.mode]);
    gl.useProgram(prog);
    gl.viewport(0, 0, W, H);
    gl.disable(gl.SCISSOR_TEST);
    gl.clearColor(0.07, 0.07, 0.07, 1); gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.SCISSOR_TEST);
    scissorTo(0, 0, W, H);
    gl.clearColor(0, 0, 0, 1); gl.clear(gl.COLOR_BUFFER_BIT);
    scissorTo(M.bbox[0], M.bbox[1], M.bbox[2], M.bbox[3]);
    gl.bindBuffer(gl.ARRAY_BUFFER, quad);
    var loc = gl.getAttribLocation(prog, 'a_pos');
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    gl.activeTexture(gl.TEXTURE0); gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.uniform1i(U(prog, 'u_data'), 0);
    gl.uniform2f(U(prog, 'u_imageSize'), W, H);
    gl.uniform2f(U(prog, 'u_canvasSize'), W, H);
    gl.uniform3fv(U(prog, 'u_scale'), SCALE);
    gl.uniform3fv(U(prog, 'u_bias'), new Float32Array([].concat.apply([], M.bias)));
    var tw = tileWeights(state.light);
    gl.uniform3fv(U(prog, 'u_tw'), tw.w);
    gl.uniform3fv(U(prog, 'u_t0'), tw.c);
    gl.uniform3fv(U(prog, 'u_light'), new Float32Array(state.light));
    gl.uniform3fv(U(prog, 'u_half'), new Float32Array(halfVector(state.light)));
    gl.uniform1fv(U(prog, 'u_exps'), new Float32Array(M.shininess.length ? M.shininess : [1]));
    gl.uniform1f(U(prog, 'u_exposure'), state.exposure);
    gl.uniform1f(U(prog, 'u_ks'), state.ks);
    gl.uniform1f(U(prog, 'u_alpha'), state.alpha);
    gl.uniform2f(U(prog, 'u_pan'), state.pan[0], state.pan[1]);
    gl.uniform1f(U(prog, 'u_zoom'), state.zoom);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
    gl.disable(gl.SCISSOR_TEST);
  }

  // ---- shaded 3D view of the integrated depth --------------------------------------------
  var mesh = null;
  function buildMesh() {
    var D = M.depth; if (!D) return null;
    var gw = D.w, gh = D.h, z = D.z, st = D.stride;
    var pos = new Float32Array(gw * gh * 3), nrm = new Float32Array(gw * gh * 3);
    var ok = new Uint8Array(gw * gh), i, j, k;
    for (j = 0; j < gh; j++) for (i = 0; i < gw; i++) {
      k = j * gw + i; var d = z[k];
      ok[k] = d === null ? 0 : 1;
      pos[3 * k] = i * st - W / 2; pos[3 * k + 1] = -(j * st - H / 2);
      pos[3 * k + 2] = d === null ? 0 : -d;   // depth grows away from the camera
    }
    var idx = [];
    function tri(a, b, c) {
      if (!(ok[a] && ok[b] && ok[c])) return;
      idx.push(a, b, c);
      var ux = pos[3 * b] - pos[3 * a], uy = pos[3 * b + 1] - pos[3 * a + 1], uz = pos[3 * b + 2] - pos[3 * a + 2];
      var vx = pos[3 * c] - pos[3 * a], vy = pos[3 * c + 1] - pos[3 * a + 1], vz = pos[3 * c + 2] - pos[3 * a + 2];
      var nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
      [a, b, c].forEach(function (v) { nrm[3 * v] += nx; nrm[3 * v + 1] += ny; nrm[3 * v + 2] += nz; });
    }
    for (j = 0; j + 1 < gh; j++) for (i = 0; i + 1 < gw; i++) {
      k = j * gw + i;
      tri(k, k + gw, k + 1); tri(k + 1, k + gw, k + gw + 1);
    }
    var big = gw * gh > 65535;   // 32-bit indices are core in WebGL 2
    var p3 = program(
      'attribute vec3 a_p; attribute vec3 a_n; uniform mat3 u_r; uniform float u_s; varying vec3 v_n;' +
      'void main() { vec3 q = u_r * a_p; v_n = u_r * a_n; gl_Position = vec4(q.xy * u_s, -q.z * 0.0005, 1.0); }',
      'precision highp float; varying vec3 v_n; uniform vec3 u_light; uniform float u_exposure;' +
      'void main() { vec3 n = normalize(v_n); float v = clamp((0.06 + 0.9 * max(dot(n, u_light), 0.0)) * u_exposure, 0.0, 1.0);' +
      ' gl_FragColor = vec4(vec3(pow(v, 1.0 / ' + GAMMA.toFixed(1) + ')), 1.0); }');
    function buf(type, data) { var b = gl.createBuffer(); gl.bindBuffer(type, b); gl.bufferData(type, data, gl.STATIC_DRAW); return b; }
    return { prog: p3, pos: buf(gl.ARRAY_BUFFER, pos), nrm: buf(gl.ARRAY_BUFFER, nrm),
             idx: buf(gl.ELEMENT_ARRAY_BUFFER, big ? new Uint32Array(idx) : new Uint16Array(idx)),
             count: idx.length, type: big ? gl.UNSIGNED_INT : gl.UNSIGNED_SHORT };
  }
  function drawMesh() {
    if (!mesh) mesh = buildMesh();
    gl.viewport(0, 0, W, H);
    gl.clearColor(0.07, 0.07, 0.07, 1); gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    if (!mesh) return;
    gl.enable(gl.DEPTH_TEST); gl.depthFunc(gl.LESS);
    gl.useProgram(mesh.prog);
    var cy = Math.cos(state.yaw), sy = Math.sin(state.yaw), cp = Math.cos(state.pitch), sp = Math.sin(state.pitch);
    // column-major: R = Rx(pitch) * Ry(yaw)
    var r = [cy, sp * sy, -cp * sy, 0, cp, sp, sy, -sp * cy, cp * cy];
    gl.uniformMatrix3fv(U(mesh.prog, 'u_r'), false, new Float32Array(r));
    gl.uniform1f(U(mesh.prog, 'u_s'), 1.8 * state.zoom / Math.max(W, H));
    gl.uniform3fv(U(mesh.prog, 'u_light'), new Float32Array(state.light));
    gl.uniform1f(U(mesh.prog, 'u_exposure'), state.exposure);
    [['a_p', mesh.pos], ['a_n', mesh.nrm]].forEach(function (a) {
      var l = gl.getAttribLocation(mesh.prog, a[0]);
      gl.bindBuffer(gl.ARRAY_BUFFER, a[1]); gl.enableVertexAttribArray(l);
      gl.vertexAttribPointer(l, 3, gl.FLOAT, false, 0, 0);
    });
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, mesh.idx);
    gl.drawElements(gl.TRIANGLES, mesh.count, mesh.type, 0);
    gl.disable(gl.DEPTH_TEST);
  }

  function draw() {
    if (!texture) return;
    if (state.mode === 'shaded3d') drawMesh(); else drawImage();
    drawPad();
  }

  // ---- light pad -----------------------------------------------------------------------
  var pad = document.getElementById('lightpad'), pctx = pad.getContext('2d');
  function drawPad() {
    var r = pad.width / 2 - 4, c = pad.width / 2, l = state.light;
    pctx.clearRect(0, 0, pad.width, pad.height);
    pctx.strokeStyle = '#555'; pctx.beginPath(); pctx.arc(c, c, r, 0, 2 * Math.PI); pctx.stroke();
    pctx.beginPath(); pctx.moveTo(c - r, c); pctx.lineTo(c + r, c); pctx.moveTo(c, c - r); pctx.lineTo(c, c + r); pctx.stroke();
    pctx.fillStyle = '#fc3'; pctx.beginPath();
    pctx.arc(c + l[0] * r, c - l[1] * r, 6, 0, 2 * Math.PI); pctx.fill();   // y up
    document.getElementById('lightval').textContent =
      'l = (' + l.map(function (v) { return v.toFixed(3); }).join(', ') + ')';
  }
  function padLight(ev) {
    var b = pad.getBoundingClientRect(), r = pad.width / 2 - 4;
    var x = (ev.clientX - b.left - b.width / 2) / (r * b.width / pad.width);
    var y = -(ev.clientY - b.top - b.height / 2) / (r * b.height / pad.height);
    var d = Math.sqrt(x * x + y * y);
    if (d > 0.999) { x *= 0.999 / d; y *= 0.999 / d; }
    state.light = [x, y, Math.sqrt(Math.max(0, 1 - x * x - y * y))];
    draw();
  }
  var padDown = false;
  pad.addEventListener('pointerdown', function (e) { padDown = true; padLight(e); });
  window.addEventListener('pointermove', function (e) { if (padDown) padLight(e); });
  window.addEventListener('pointerup', function () { padDown = false; });

  // ---- zoom, pan, rotate -----------------------------------------------------------------
  var drag = null;
  canvas.addEventListener('wheel', function (e) {
    e.preventDefault();
    var b = canvas.getBoundingClientRect();
    var fx = (e.clientX - b.left) * W / b.width, fy = (e.clientY - b.top) * H / b.height;
    var z = state.zoom * (e.deltaY < 0 ? 1.15 : 1 / 1.15);
    z = Math.min(Math.max(z, 0.1), 64);
    state.pan = [fx - (fx - state.pan[0]) * z / state.zoom, fy - (fy - state.pan[1]) * z / state.zoom];
    state.zoom = z; draw();
  }, { passive: false });
  canvas.addEventListener('pointerdown', function (e) { drag = [e.clientX, e.clientY]; });
  window.addEventListener('pointerup', function () { drag = null; });
  window.addEventListener('pointermove', function (e) {
    if (!drag) return;
    var b = canvas.getBoundingClientRect(), dx = e.clientX - drag[0], dy = e.clientY - drag[1];
    drag = [e.clientX, e.clientY];
    if (state.mode === 'shaded3d') { state.yaw += dx * 0.01; state.pitch += dy * 0.01; }
    else state.pan = [state.pan[0] + dx * W / b.width, state.pan[1] + dy * H / b.height];
    draw();
  });

  // ---- controls ----------------------------------------------------------------------------
  var modeEl = document.getElementById('mode');
  if (!M.depth) modeEl.querySelector('option[value=shaded3d]').disabled = true;
  modeEl.addEventListener('change', function () { api.setMode(modeEl.value); });
  document.getElementById('exposure').addEventListener('input', function (e) {
    state.exposure = Math.pow(2, parseFloat(e.target.value)); draw(); });
  document.getElementById('ks').addEventListener('input', function (e) {
    state.ks = parseFloat(e.target.value); draw(); });
  document.getElementById('alpha').addEventListener('input', function (e) {
    state.alpha = parseFloat(e.target.value); draw(); });
  document.getElementById('reset').addEventListener('click', function () {
    state.zoom = 1; state.pan = [0, 0]; draw(); });

  // ---- API (used by the tests and the benchmark) -------------------------------------------
  api.setLight = function (l) { state.light = normalize(l); draw(); };
  api.setMode = function (m) {
    if (m === 'shaded3d' && !M.depth) return false;
    state.mode = m; modeEl.value = m;
    var spec = m === 'specular';
    Array.prototype.forEach.call(document.querySelectorAll('.spec'), function (el) {
      el.classList.toggle('hidden', !spec); });
    draw(); return true;
  };
  api.setExposure = function (e) { state.exposure = e; draw(); };
  api.setView = function (zoom, pan) { state.zoom = zoom; state.pan = pan; draw(); };
  api.pixels = function () {   // RGB, top row first, base64 (redrawn: no preserved buffer)
    draw();
    var px = new Uint8Array(W * H * 4);
    gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, px);
    var out = new Uint8Array(W * H * 3), x, y;
    for (y = 0; y < H; y++) for (x = 0; x < W; x++) {
      var s = ((H - 1 - y) * W + x) * 4, d = (y * W + x) * 3;
      out[d] = px[s]; out[d + 1] = px[s + 1]; out[d + 2] = px[s + 2];
    }
    var bin = '', CH = 0x8000;
    for (var i = 0; i < out.length; i += CH) bin += String.fromCharCode.apply(null, out.subarray(i, i + CH));
    return btoa(bin);
  };
  api.benchmark = function (frames) {   // ms per relit frame, synchronised by a readback
    var t = [], one = new Uint8Array(4), keep = state.light.slice();
    for (var i = 0; i < frames; i++) {
      var a = 2 * Math.PI * i / frames;
      state.light = normalize([0.5 * Math.cos(a), 0.5 * Math.sin(a), 0.8]);
      var t0 = performance.now();
      drawImage(); gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, one);
      t.push(performance.now() - t0);
    }
    state.light = keep; draw();
    t.sort(function (a, b) { return a - b; });
    return { median_ms: t[Math.floor(t.length / 2)], min_ms: t[0], mean_ms: t.reduce(function (a, b) { return a + b; }, 0) / t.length,
             max_ms: t[t.length - 1], frames: frames, renderer: gl.getParameter(gl.RENDERER) };
  };

  // ---- load the atlas --------------------------------------------------------------------
  say('decoding ' + M.kind + ' model (' + T.count + ' tiles) ...');
  var image = new Image();
  image.onload = function () {
    // 1. the atlas as an RGBA8 texture (exact bytes: no premultiplication, no colour
    //    conversion), 2. read back once through a framebuffer, 3. repacked per pixel.
    var atlas = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, atlas);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, image);
    var fb = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, atlas, 0);
    var aw = M.atlas_width, ah = M.atlas_height;
    var bytes = new Uint8Array(aw * ah * 4);
    gl.readPixels(0, 0, aw, ah, gl.RGBA, gl.UNSIGNED_BYTE, bytes);   // row 0 = image top
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.deleteFramebuffer(fb); gl.deleteTexture(atlas);
    var packed = new Uint8Array(W * H * LAYERS * 16);
    for (var t = 0; t < T.count; t++) {
      var ox = T.origin[t][0], oy = T.origin[t][1];
      for (var ch = 0; ch < 3; ch++) {
        var j = 3 * t + ch, layer = j >> 4, off = j & 15;
        for (var y = 0; y < H; y++) {
          var src = ((oy + y) * aw + ox) * 4 + ch, dst = ((layer * H + y) * W) * 16 + off;
          for (var x = 0; x < W; x++) { packed[dst] = bytes[src]; src += 4; dst += 16; }
        }
      }
    }
    texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
    // little-endian words: byte (j & 3) of word (j >> 2) & 3 is bits 8 (j & 3) in GLSL
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA32UI, W, H * LAYERS, 0, gl.RGBA_INTEGER,
                  gl.UNSIGNED_INT, new Uint32Array(packed.buffer));
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    api.setMode('image');
    api.ready = true;
    say(W + ' x ' + H + ', ' + M.kind + '\nwheel: zoom, drag: pan' + (M.depth ? ' (3D: rotate)' : ''));
  };
  image.onerror = function () { api.error = 'cannot decode the model atlas'; say(api.error); };
  image.src = M.atlas;
})();
