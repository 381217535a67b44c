// The browser side, served as /assets/gallery.js (plain ES2020; no template literals inside, so
// it can live in this string). It never builds markup from data: cards arrive as HTML that the
// server escaped, parsed with DOMParser (which runs no script), and the CSP allows no inline code.
export const GALLERY_JS = String.raw`'use strict';
(function () {
  var body = document.body;
  var page = body.dataset.live;
  if (!page) return;
  var animal = body.dataset.animal || '';
  var anchor = document.querySelector('[data-since]');
  var grid = document.getElementById('grid');
  var more = document.getElementById('more');
  var count = document.getElementById('count');

  function parse(html) { return new DOMParser().parseFromString(html, 'text/html').body; }
  function fetchHtml(url) {
    return fetch(url, { headers: { accept: 'text/html' } }).then(function (r) {
      if (!r.ok) throw new Error('gallery: ' + url + ' answered ' + r.status);
      return r.text();
    }).then(parse);
  }
  function cardById(id) {
    if (!grid) return null;
    for (var i = 0; i < grid.children.length; i++) if (grid.children[i].dataset.id === id) return grid.children[i];
    return null;
  }
  function setCount(delta) {
    if (!count || delta === 0) return;
    var n = Math.max(0, Number(count.dataset.n) + delta);
    count.dataset.n = String(n);
    count.textContent = n + (n === 1 ? ' picture' : ' pictures');
  }
  function updateEmpty() {
    var empty = document.getElementById('empty');
    if (empty && grid) empty.hidden = grid.children.length > 0;
  }
  function allLoaded() { return !grid || !grid.dataset.cursor; }
  // Newest first by sort key; a card already shown (same image_id) is replaced, never doubled.
  function place(li) {
    var old = cardById(li.dataset.id);
    if (old) { old.replaceWith(li); return 0; }
    for (var i = 0; i < grid.children.length; i++) {
      if (grid.children[i].dataset.sort < li.dataset.sort) { grid.insertBefore(li, grid.children[i]); return 1; }
    }
    if (allLoaded()) { grid.appendChild(li); return 1; }
    return 0;
  }
  function removeCard(id) {
    var old = cardById(id);
    if (!old) return 0;
    old.remove();
    return -1;
  }

  var loading = false;
  function loadMore() {
    if (loading || !grid || !grid.dataset.cursor) return;
    loading = true;
    fetchHtml('/a/' + encodeURIComponent(animal) + '?fragment=cards&cursor=' + encodeURIComponent(grid.dataset.cursor)).then(function (b) {
      var list = b.querySelector('#grid');
      Array.prototype.slice.call(list.children).forEach(function (li) { if (!cardById(li.dataset.id)) grid.appendChild(li); });
      grid.dataset.cursor = list.dataset.cursor || '';
      if (more) more.hidden = allLoaded();
    }).catch(function (err) { console.warn(String(err)); }).then(function () { loading = false; });
  }
  if (more && grid) {
    more.addEventListener('click', loadMore);
    if ('IntersectionObserver' in window) {
      new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) loadMore();
      }, { rootMargin: '800px' }).observe(more);
    }
  }

  // After a restart of the server the page merges a fresh first page: the same image_id twice
  // is one card, and a card missing from the fresh range was deleted meanwhile.
  function resyncGrid() {
    var n = Math.min(200, Math.max(48, grid.children.length));
    fetchHtml('/a/' + encodeURIComponent(animal) + '?fragment=cards&limit=' + n).then(function (b) {
      var list = b.querySelector('#grid');
      var fresh = Array.prototype.slice.call(list.children);
      var ids = {};
      var oldest = null;
      var delta = 0;
      fresh.forEach(function (li) { ids[li.dataset.id] = true; if (oldest === null || li.dataset.sort < oldest) oldest = li.dataset.sort; });
      Array.prototype.slice.call(grid.children).forEach(function (li) {
        if (!ids[li.dataset.id] && (!list.dataset.cursor || (oldest !== null && li.dataset.sort >= oldest))) delta += removeCard(li.dataset.id);
      });
      fresh.forEach(function (li) { delta += place(li); });
      setCount(delta);
      updateEmpty();
    }).catch(function (err) { console.warn(String(err)); });
  }

  var frontTimer = null;
  function refreshFront() {
    clearTimeout(frontTimer);
    frontTimer = setTimeout(function () {
      fetchHtml('/?fragment=animals').then(function (b) {
        var section = document.getElementById('animals');
        section.replaceChildren.apply(section, Array.prototype.slice.call(b.childNodes));
      }).catch(function (err) { console.warn(String(err)); });
    }, 250);
  }

  function onChange(type, data) {
    if (page === 'front') { refreshFront(); return; }
    if (page === 'picture') {
      var pic = document.getElementById('picture');
      if (type === 'remove' && pic && pic.dataset.id === data.id) document.getElementById('gone').hidden = false;
      return;
    }
    if (!grid || data.animal !== animal) return;
    if (type === 'remove') setCount(removeCard(data.id));
    else {
      var li = parse(data.html).firstElementChild;
      li.classList.add('arrived');
      setCount(place(li));
    }
    updateEmpty();
  }

  var since = anchor ? anchor.dataset.since : '';
  var source = new EventSource('/events?animal=' + encodeURIComponent(animal) + '&since=' + encodeURIComponent(since || ''));
  source.addEventListener('open', function () { body.dataset.liveState = 'open'; });
  source.addEventListener('error', function () { body.dataset.liveState = 'reconnecting'; });
  ['insert', 'modify', 'remove'].forEach(function (type) {
    source.addEventListener(type, function (e) { onChange(type, JSON.parse(e.data)); });
  });
  source.addEventListener('resync', function () {
    if (page === 'front') refreshFront();
    else if (page === 'animal' && grid) resyncGrid();
  });
  source.addEventListener('status', function (e) {
    var s = JSON.parse(e.data);
    var el = document.getElementById('status');
    if (el) { el.textContent = s.text; el.dataset.level = s.level; }
  });

  if (page === 'picture') {
    document.addEventListener('keydown', function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
      var target = e.key === 'ArrowLeft' ? 'prev' : e.key === 'ArrowRight' ? 'next' : null;
      if (target) {
        var link = document.getElementById(target);
        if (link) { e.preventDefault(); link.click(); }
      } else if (e.key === 'Escape') {
        location.href = '/a/' + encodeURIComponent(animal);
      }
    });
  }
})();
`;
