import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { useConnection } from './bridge.ts';
import './style.css';

// Performance marks (berth:*, see store/perf-mark.ts) let bench/gui-list.ts break the first paint down.
performance.mark('berth:script');
// Open the contract connection first: its handshake runs while the app mounts.
useConnection();
createApp(App).use(createPinia()).mount('#app');
performance.mark('berth:mounted');
